package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	_ "github.com/go-sql-driver/mysql"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// timelineRoom is a public room of owner's that member joined, as both
// see it over one protocol.
type timelineRoom struct {
	id            int64
	owner, member *testenv.Client
	ownerID       int64
}

func newTimelineRoom(t *testing.T, srv *testenv.Server, p testenv.Protocol, name string) timelineRoom {
	t.Helper()
	owner, member := testenv.NewClient(srv, p), testenv.NewClient(srv, p)
	login := owner.Signup(t, name+"_owner_"+p.Name)
	member.Signup(t, name+"_member_"+p.Name)
	res, err := owner.Rooms.CreateRoom(context.Background(), &chatv1.CreateRoomRequest{Name: name + " " + p.Name})
	if err != nil {
		t.Fatal(err)
	}
	member.Join(t, res.GetRoom().GetId())
	return timelineRoom{id: res.GetRoom().GetId(), owner: owner, member: member, ownerID: login.GetUser().GetId()}
}

// message is the room's message with that seq as c sees it.
func (r timelineRoom) message(t *testing.T, c *testenv.Client, seq int64) *chatv1.Message {
	t.Helper()
	for _, m := range allMessages(t, c, r.id) {
		if m.GetSeq() == seq {
			return m
		}
	}
	t.Fatalf("no message %d in room %d", seq, r.id)
	return nil
}

func TestEditMessage(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		r := newTimelineRoom(t, srv, p, "edits")
		m := r.owner.Send(t, r.id, "helo wrld", "e-1")
		res, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: " hello world "})
		if err != nil {
			t.Fatal(err)
		}
		edited := res.GetMessage()
		if edited.GetBody() != "hello world" || edited.GetEditedAt() == nil || edited.GetSeq() != m.GetSeq() {
			t.Fatalf("edit answered %v", edited)
		}
		if _, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: "hello, world"}); err != nil {
			t.Fatal(err)
		}
		t.Run("ListShowsCurrentState", func(t *testing.T) {
			got := r.message(t, r.member, m.GetSeq())
			if got.GetBody() != "hello, world" || got.GetEditedAt() == nil {
				t.Fatalf("listed as %v", got)
			}
		})
		t.Run("MembersSeeHistory", func(t *testing.T) {
			h, err := r.member.Messages.ListEdits(ctx, &chatv1.ListEditsRequest{RoomId: r.id, MessageSeq: m.GetSeq()})
			if err != nil {
				t.Fatal(err)
			}
			var bodies []string
			for _, e := range h.GetEdits() {
				bodies = append(bodies, e.GetBody())
			}
			if fmt.Sprint(bodies) != "[helo wrld hello world]" {
				t.Fatalf("edits %q", bodies)
			}
		})
		t.Run("LogCountsEveryEdit", func(t *testing.T) {
			if last := roomLastSeq(t, r.owner, r.id); last != m.GetSeq()+2 {
				t.Fatalf("last_seq %d after a message and two edits, want %d", last, m.GetSeq()+2)
			}
		})
		t.Run("ErrSomeoneElses", func(t *testing.T) {
			_, err := r.member.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: "mine now"})
			wantCode(t, err, connect.CodePermissionDenied)
		})
		t.Run("ErrRoomNotVisible", func(t *testing.T) {
			stranger := testenv.NewClient(srv, p)
			stranger.Signup(t, "edits_stranger_"+p.Name)
			priv, err := r.owner.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "edits private " + p.Name, Visibility: chatv1.Visibility_VISIBILITY_PRIVATE})
			if err != nil {
				t.Fatal(err)
			}
			pm := r.owner.Send(t, priv.GetRoom().GetId(), "secret", "e-priv")
			_, err = stranger.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: priv.GetRoom().GetId(), MessageSeq: pm.GetSeq(), Body: "x"})
			wantCode(t, err, connect.CodeNotFound)
		})
		t.Run("ErrMissingMessage", func(t *testing.T) {
			_, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: 999, Body: "x"})
			wantCode(t, err, connect.CodeNotFound)
		})
		t.Run("ErrEmptyBody", func(t *testing.T) {
			_, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: "   "})
			wantCode(t, err, connect.CodeInvalidArgument)
		})
		t.Run("ErrTombstone", func(t *testing.T) {
			gone := r.owner.Send(t, r.id, "soon gone", "e-gone")
			if _, err := r.owner.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: r.id, MessageSeq: gone.GetSeq()}); err != nil {
				t.Fatal(err)
			}
			_, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: gone.GetSeq(), Body: "back"})
			wantCode(t, err, connect.CodeFailedPrecondition)
		})
	})
}

func roomLastSeq(t *testing.T, c *testenv.Client, roomID int64) int64 {
	t.Helper()
	res, err := c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.GetRooms() {
		if r.GetId() == roomID {
			return r.GetLastSeq()
		}
	}
	t.Fatalf("room %d not listed", roomID)
	return 0
}

func TestDeleteMessage(t *testing.T) {
	env := testenv.ServerEnv(t)
	srv := testenv.Start(t, env)
	for _, p := range testenv.Protocols {
		t.Run(p.Name, func(t *testing.T) {
			ctx := context.Background()
			r := newTimelineRoom(t, srv, p, "deletes")
			secret := "the launch code is " + p.Name + "-4711"
			m := r.member.Send(t, r.id, secret+" draft", "d-1")
			if _, err := r.member.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: secret + " @" + "deletes_owner_" + p.Name}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.owner.Messages.AddReaction(ctx, &chatv1.AddReactionRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Emoji: "👀"}); err != nil {
				t.Fatal(err)
			}
			t.Run("ErrOtherMember", func(t *testing.T) {
				o := r.owner.Send(t, r.id, "the owner's", "d-owner")
				_, err := r.member.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: r.id, MessageSeq: o.GetSeq()})
				wantCode(t, err, connect.CodePermissionDenied)
			})
			if where := tablesHolding(t, env["PARLEY_MYSQL_DSN"], "launch code is "+p.Name); fmt.Sprint(where) != "[message_edits.body messages.body]" {
				t.Fatalf("before the delete, the text is in %v", where)
			}
			if _, err := r.member.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq()}); err != nil {
				t.Fatal(err)
			}
			last := roomLastSeq(t, r.owner, r.id)
			t.Run("TwiceIsFine", func(t *testing.T) {
				if _, err := r.member.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq()}); err != nil {
					t.Fatal(err)
				}
				if again := roomLastSeq(t, r.owner, r.id); again != last {
					t.Fatalf("a second delete moved last_seq from %d to %d", last, again)
				}
			})
			t.Run("Tombstone", func(t *testing.T) {
				got := r.message(t, r.owner, m.GetSeq())
				if !got.GetDeleted() || got.GetBody() != "" || len(got.GetReactions()) != 0 || len(got.GetMentionUserIds()) != 0 {
					t.Fatalf("deleted message listed as %v", got)
				}
				h, err := r.owner.Messages.ListEdits(ctx, &chatv1.ListEditsRequest{RoomId: r.id, MessageSeq: m.GetSeq()})
				if err != nil || len(h.GetEdits()) != 0 {
					t.Fatalf("edits of a deleted message: %v, %v", h.GetEdits(), err)
				}
			})
			t.Run("TextGoneFromEveryTable", func(t *testing.T) {
				if where := tablesHolding(t, env["PARLEY_MYSQL_DSN"], "launch code"); len(where) > 0 {
					t.Fatalf("the deleted text is still in %v", where)
				}
			})
			t.Run("OwnerDeletesAnyone", func(t *testing.T) {
				o := r.member.Send(t, r.id, "spam", "d-spam")
				if _, err := r.owner.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: r.id, MessageSeq: o.GetSeq()}); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// tablesHolding lists the table.column pairs of the DSN's database whose
// text contains s.
func tablesHolding(t *testing.T, dsn, s string) []string {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = DATABASE() AND data_type IN ('char', 'varchar', 'text', 'mediumtext', 'longtext', 'blob', 'varbinary')`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 5 {
		t.Fatalf("only %d text columns found: is this the server's database?", len(cols))
	}
	var where []string
	for _, c := range cols {
		var n int
		q := fmt.Sprintf("SELECT COUNT(*) FROM `%s` WHERE INSTR(`%s`, ?) > 0", c[0], c[1])
		if err := db.QueryRow(q, s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			where = append(where, c[0]+"."+c[1])
		}
	}
	slices.Sort(where)
	return where
}

func TestReply(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		r := newTimelineRoom(t, srv, p, "replies")
		long := strings.Repeat("长", 250)
		orig := r.owner.Send(t, r.id, long, "r-1")
		res, err := r.member.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: r.id, Body: "agreed", ClientMsgId: "r-2", ReplyToSeq: orig.GetSeq()})
		if err != nil {
			t.Fatal(err)
		}
		check := func(t *testing.T, m *chatv1.Message, deleted bool) {
			t.Helper()
			q := m.GetReplyTo()
			want := strings.Repeat("长", 200)
			if deleted {
				want = ""
			}
			if q.GetSeq() != orig.GetSeq() || q.GetSender().GetId() != r.ownerID || q.GetExcerpt() != want || q.GetDeleted() != deleted {
				t.Fatalf("reply quotes %v", q)
			}
		}
		check(t, res.GetMessage(), false)
		check(t, r.message(t, r.owner, res.GetMessage().GetSeq()), false)
		t.Run("EditKeepsQuote", func(t *testing.T) {
			e, err := r.member.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: res.GetMessage().GetSeq(), Body: "agreed!"})
			if err != nil {
				t.Fatal(err)
			}
			check(t, e.GetMessage(), false)
		})
		t.Run("ErrMissing", func(t *testing.T) {
			_, err := r.member.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: r.id, Body: "to nothing", ClientMsgId: "r-3", ReplyToSeq: 999})
			wantCode(t, err, connect.CodeNotFound)
		})
		t.Run("QuoteOfDeleted", func(t *testing.T) {
			if _, err := r.owner.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: r.id, MessageSeq: orig.GetSeq()}); err != nil {
				t.Fatal(err)
			}
			check(t, r.message(t, r.member, res.GetMessage().GetSeq()), true)
		})
	})
}

func TestReactions(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		r := newTimelineRoom(t, srv, p, "reactions")
		m := r.owner.Send(t, r.id, "ship it?", "x-1")
		react := func(c *testenv.Client, emoji string) error {
			_, err := c.Messages.AddReaction(ctx, &chatv1.AddReactionRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Emoji: emoji})
			return err
		}
		for _, c := range []*testenv.Client{r.owner, r.member, r.member} {
			if err := react(c, "👍"); err != nil {
				t.Fatal(err)
			}
		}
		if err := react(r.member, "🎉"); err != nil {
			t.Fatal(err)
		}
		summary := func(c *testenv.Client) string {
			var parts []string
			for _, x := range r.message(t, c, m.GetSeq()).GetReactions() {
				parts = append(parts, fmt.Sprintf("%s%d%v", x.GetEmoji(), x.GetCount(), x.GetMe()))
			}
			return strings.Join(parts, " ")
		}
		if got := summary(r.owner); got != "👍2true 🎉1false" {
			t.Fatalf("owner sees %q", got)
		}
		if got := summary(r.member); got != "👍2true 🎉1true" {
			t.Fatalf("member sees %q", got)
		}
		for range 2 {
			if _, err := r.member.Messages.RemoveReaction(ctx, &chatv1.RemoveReactionRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Emoji: "👍"}); err != nil {
				t.Fatal(err)
			}
		}
		if got := summary(r.member); got != "👍1false 🎉1true" {
			t.Fatalf("after removing, member sees %q", got)
		}
		if last := roomLastSeq(t, r.owner, r.id); last != m.GetSeq()+4 {
			t.Fatalf("last_seq %d: want the message and 4 changes (repeats log nothing)", last)
		}
		t.Run("ErrNotOneEmoji", func(t *testing.T) {
			for _, e := range []string{"ok", "👍👍", "©"} {
				wantCode(t, react(r.owner, e), connect.CodeInvalidArgument)
			}
		})
		t.Run("ErrMissingMessage", func(t *testing.T) {
			_, err := r.owner.Messages.AddReaction(ctx, &chatv1.AddReactionRequest{RoomId: r.id, MessageSeq: 999, Emoji: "👍"})
			wantCode(t, err, connect.CodeNotFound)
		})
		t.Run("ErrTwentyFirstEmoji", func(t *testing.T) {
			emoji := []rune("😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🥲😚🙂")
			for _, e := range emoji[:18] { // 👍 and 🎉 are there already
				if err := react(r.owner, string(e)); err != nil {
					t.Fatal(err)
				}
			}
			wantCode(t, react(r.owner, string(emoji[18])), connect.CodeResourceExhausted)
			if err := react(r.owner, "🎉"); err != nil {
				t.Fatalf("an emoji already there is not a new one: %v", err)
			}
		})
	})
}

func TestMentions(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		r := newTimelineRoom(t, srv, p, "mentions")
		outsider := testenv.NewClient(srv, p)
		outsider.Signup(t, "mentions_out_"+p.Name)
		memberID := func() int64 {
			res, err := r.member.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
			if err != nil {
				t.Fatal(err)
			}
			return res.GetUser().GetId()
		}()
		body := fmt.Sprintf("@MENTIONS_member_%s look, not @mentions_out_%s nor `@mentions_owner_%s`", p.Name, p.Name, p.Name)
		m := r.owner.Send(t, r.id, body, "m-1")
		if fmt.Sprint(m.GetMentionUserIds()) != fmt.Sprintf("[%d]", memberID) || m.GetMentionsRoom() {
			t.Fatalf("send answered mentions %v room=%v", m.GetMentionUserIds(), m.GetMentionsRoom())
		}
		if got := r.message(t, r.member, m.GetSeq()); fmt.Sprint(got.GetMentionUserIds()) != fmt.Sprintf("[%d]", memberID) {
			t.Fatalf("listed with mentions %v", got.GetMentionUserIds())
		}
		res, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: "@room never mind"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.GetMessage().GetMentionUserIds()) != 0 || !res.GetMessage().GetMentionsRoom() {
			t.Fatalf("edit re-read mentions as %v room=%v", res.GetMessage().GetMentionUserIds(), res.GetMessage().GetMentionsRoom())
		}
		if got := r.message(t, r.member, m.GetSeq()); len(got.GetMentionUserIds()) != 0 || !got.GetMentionsRoom() {
			t.Fatalf("listed after the edit with mentions %v room=%v", got.GetMentionUserIds(), got.GetMentionsRoom())
		}
	})
}

// entryKinds names each event's kind and seq, e.g. "5:message_edited".
func entryKinds(events []*chatv1.Event) []string {
	var out []string
	for _, e := range events {
		kind := "?"
		switch {
		case e.GetMessageCreated() != nil:
			kind = "message_created"
		case e.GetMessageEdited() != nil:
			kind = "message_edited"
		case e.GetMessageDeleted() != nil:
			kind = "message_deleted"
		case e.GetReactionAdded() != nil:
			kind = "reaction_added"
		case e.GetReactionRemoved() != nil:
			kind = "reaction_removed"
		}
		out = append(out, fmt.Sprintf("%d:%s", e.GetSeq(), kind))
	}
	return out
}

// TestOfflineResume: a client that was away while a message was sent,
// edited, reacted to and deleted gets exactly those four entries, in order,
// on the WebSocket, on Subscribe and from ListEvents.
func TestOfflineResume(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	ctx := context.Background()
	p := testenv.Protocols[0]
	r := newTimelineRoom(t, srv, p, "offline")
	before := r.owner.Send(t, r.id, "before", "o-0").GetSeq()
	m := r.owner.Send(t, r.id, "typo", "o-1")
	if _, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: "fixed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.owner.Messages.AddReaction(ctx, &chatv1.AddReactionRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Emoji: "👍"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.owner.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq()}); err != nil {
		t.Fatal(err)
	}
	s := m.GetSeq()
	want := fmt.Sprint([]string{
		fmt.Sprintf("%d:message_created", s), fmt.Sprintf("%d:message_edited", s+1),
		fmt.Sprintf("%d:reaction_added", s+2), fmt.Sprintf("%d:message_deleted", s+3),
	})
	t.Run("WebSocket", func(t *testing.T) {
		ws, _ := testenv.DialWS(t, srv.URL, r.member.Token)
		ws.Resume(r.id, before)
		var got []*chatv1.Event
		for len(got) < 4 {
			if e := ws.Next(10 * time.Second).GetEvent(); e.GetRoomId() == r.id && e.GetSeq() > 0 {
				got = append(got, e)
			}
		}
		if fmt.Sprint(entryKinds(got)) != want {
			t.Fatalf("replayed %v, want %s", entryKinds(got), want)
		}
		if f, err := ws.TryNext(300 * time.Millisecond); err == nil && f.GetEvent().GetSeq() > 0 {
			t.Fatalf("replayed more: %v", f)
		}
	})
	t.Run("Subscribe", func(t *testing.T) {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		stream, err := r.member.Messages.Subscribe(sctx, &chatv1.SubscribeRequest{Resume: []*chatv1.RoomCursor{{RoomId: r.id, AfterSeq: before}}})
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		var got []*chatv1.Event
		for len(got) < 4 && stream.Receive() {
			if e := stream.Msg().GetEvent(); e.GetRoomId() == r.id && e.GetSeq() > 0 {
				got = append(got, e)
			}
		}
		if fmt.Sprint(entryKinds(got)) != want {
			t.Fatalf("replayed %v (%v), want %s", entryKinds(got), stream.Err(), want)
		}
	})
	t.Run("ListEvents", func(t *testing.T) {
		res, err := r.member.Messages.ListEvents(ctx, &chatv1.ListEventsRequest{RoomId: r.id, AfterSeq: before})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(entryKinds(res.GetEvents())) != want || res.GetHasMore() {
			t.Fatalf("ListEvents gave %v has_more=%v, want %s", entryKinds(res.GetEvents()), res.GetHasMore(), want)
		}
		created := res.GetEvents()[0].GetMessageCreated().GetMessage()
		if !created.GetDeleted() || created.GetBody() != "" {
			t.Fatalf("the log shows the deleted message as %v", created)
		}
		page, err := r.member.Messages.ListEvents(ctx, &chatv1.ListEventsRequest{RoomId: r.id, AfterSeq: 0, Limit: 2})
		if err != nil || len(page.GetEvents()) != 2 || !page.GetHasMore() {
			t.Fatalf("a page of 2: %v has_more=%v err=%v", entryKinds(page.GetEvents()), page.GetHasMore(), err)
		}
	})
}

// TestLiveChanges: a connected member sees each change as it happens, with
// the seq of its log entry.
func TestLiveChanges(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	ctx := context.Background()
	r := newTimelineRoom(t, srv, testenv.Protocols[0], "live")
	ws, _ := testenv.DialWS(t, srv.URL, r.member.Token)
	m := r.owner.Send(t, r.id, "draft", "l-1")
	if _, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: "final"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.owner.Messages.AddReaction(ctx, &chatv1.AddReactionRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Emoji: "🚀"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.owner.Messages.RemoveReaction(ctx, &chatv1.RemoveReactionRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Emoji: "🚀"}); err != nil {
		t.Fatal(err)
	}
	var got []*chatv1.Event
	for len(got) < 4 {
		if e := ws.Next(10 * time.Second).GetEvent(); e.GetRoomId() == r.id && e.GetSeq() > 0 {
			got = append(got, e)
		}
	}
	s := m.GetSeq()
	want := fmt.Sprint([]string{
		fmt.Sprintf("%d:message_created", s), fmt.Sprintf("%d:message_edited", s+1),
		fmt.Sprintf("%d:reaction_added", s+2), fmt.Sprintf("%d:reaction_removed", s+3),
	})
	if fmt.Sprint(entryKinds(got)) != want {
		t.Fatalf("live events %v, want %s", entryKinds(got), want)
	}
	if e := got[1].GetMessageEdited().GetMessage(); e.GetBody() != "final" || e.GetEditedAt() == nil {
		t.Fatalf("message_edited carries %v", e)
	}
	if a := got[2].GetReactionAdded(); a.GetEmoji() != "🚀" || a.GetUserId() != r.ownerID || a.GetMessageSeq() != s {
		t.Fatalf("reaction_added carries %v", a)
	}
}

// TestLogStaysGapless: senders, editors and reactors at once in one room
// leave a log numbered 1..last_seq without a gap or a double, every entry
// as the change it was.
func TestLogStaysGapless(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	ctx := context.Background()
	p := testenv.Protocols[0]
	r := newTimelineRoom(t, srv, p, "gapless")
	target := r.owner.Send(t, r.id, "react to me", "g-0").GetSeq()
	const workers, each = 6, 15
	emoji := []string{"👍", "🎉", "❤️", "😂", "🚀", "👀"}
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			c := r.member
			if w%2 == 0 {
				c = r.owner
			}
			var err error
			for i := 0; i < each && err == nil; i++ {
				switch i % 3 {
				case 0:
					_, err = c.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: r.id, Body: fmt.Sprintf("w%d-%d", w, i), ClientMsgId: fmt.Sprintf("g-%d-%d", w, i)})
				case 1:
					_, err = c.Messages.AddReaction(ctx, &chatv1.AddReactionRequest{RoomId: r.id, MessageSeq: target, Emoji: emoji[w]})
				default:
					_, err = c.Messages.RemoveReaction(ctx, &chatv1.RemoveReactionRequest{RoomId: r.id, MessageSeq: target, Emoji: emoji[w]})
				}
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	last := roomLastSeq(t, r.owner, r.id)
	var seqs []int64
	for after := int64(0); ; {
		res, err := r.owner.Messages.ListEvents(ctx, &chatv1.ListEventsRequest{RoomId: r.id, AfterSeq: after, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.GetEvents() {
			seqs = append(seqs, e.GetSeq())
			after = e.GetSeq()
		}
		if !res.GetHasMore() {
			break
		}
	}
	if int64(len(seqs)) != last {
		t.Fatalf("the log has %d entries, last_seq is %d", len(seqs), last)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("entry %d has seq %d: %v", i, s, seqs)
		}
	}
	// Each worker has an emoji of its own and alternates adding and removing
	// it, so every call changes something and logs one entry.
	if want := int64(1 + workers*each); last != want {
		t.Fatalf("last_seq %d, want %d", last, want)
	}
}

// TestTypingAfterSend: a message ends its sender's typing, so typing again
// at once is shown again, not swallowed as a repeat within the window.
func TestTypingAfterSend(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	ctx := context.Background()
	r := newTimelineRoom(t, srv, testenv.Protocols[0], "typing")
	ws, _ := testenv.DialWS(t, srv.URL, r.member.Token)
	typed := func() {
		t.Helper()
		if _, err := r.owner.Messages.SendTyping(ctx, &chatv1.SendTypingRequest{RoomId: r.id}); err != nil {
			t.Fatal(err)
		}
		for {
			if e := ws.Next(5 * time.Second).GetEvent(); e.GetTyping().GetUserId() == r.ownerID {
				return
			}
		}
	}
	typed()
	r.owner.Send(t, r.id, "done typing", "t-1")
	eventually(t, 2*time.Second, "typing shown again right after the send", func() bool {
		_, err := r.owner.Messages.SendTyping(ctx, &chatv1.SendTypingRequest{RoomId: r.id})
		if err != nil {
			t.Fatal(err)
		}
		for {
			f, err := ws.TryNext(200 * time.Millisecond)
			if err != nil {
				return false
			}
			if f.GetEvent().GetTyping().GetUserId() == r.ownerID {
				return true
			}
		}
	})
}

// TestReactionSpelling: 👍 with and without a redundant U+FE0F is one
// reaction.
func TestReactionSpelling(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	ctx := context.Background()
	r := newTimelineRoom(t, srv, testenv.Protocols[0], "spelling")
	m := r.owner.Send(t, r.id, "nice", "s-1")
	for _, c := range []struct {
		who   *testenv.Client
		emoji string
	}{{r.owner, "👍"}, {r.member, "👍\ufe0f"}} {
		if _, err := c.who.Messages.AddReaction(ctx, &chatv1.AddReactionRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Emoji: c.emoji}); err != nil {
			t.Fatal(err)
		}
	}
	got := r.message(t, r.owner, m.GetSeq()).GetReactions()
	if len(got) != 1 || got[0].GetEmoji() != "👍" || got[0].GetCount() != 2 {
		t.Fatalf("reactions %v, want one 👍 of 2", got)
	}
}
