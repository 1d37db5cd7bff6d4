package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	_ "github.com/go-sql-driver/mysql"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// roomOf is the room with the id in the caller's room list.
func roomOf(t *testing.T, c *testenv.Client, roomID int64) *chatv1.Room {
	t.Helper()
	list, err := c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.GetRooms() {
		if r.GetId() == roomID {
			return r
		}
	}
	t.Fatalf("room %d is not in the list", roomID)
	return nil
}

func wantReadState(t *testing.T, r *chatv1.Room, readSeq, unread int64) {
	t.Helper()
	if r.GetReadSeq() != readSeq || r.GetUnreadCount() != unread {
		t.Fatalf("room %d: read_seq %d, unread %d; want %d, %d", r.GetId(), r.GetReadSeq(), r.GetUnreadCount(), readSeq, unread)
	}
}

func markRead(t *testing.T, c *testenv.Client, roomID, seq int64) int64 {
	t.Helper()
	res, err := c.Rooms.MarkRead(context.Background(), &chatv1.MarkReadRequest{RoomId: roomID, Seq: seq})
	if err != nil {
		t.Fatalf("mark read %d: %v", seq, err)
	}
	return res.GetReadSeq()
}

func shareReceipts(t *testing.T, c *testenv.Client, share bool) {
	t.Helper()
	res, err := c.Users.UpdateSettings(context.Background(), &chatv1.UpdateSettingsRequest{ShareReadReceipts: proto.Bool(share)})
	if err != nil || res.GetSettings().GetShareReadReceipts() != share {
		t.Fatalf("share receipts %v: %v, %v", share, res, err)
	}
}

func newRoom(t *testing.T, c *testenv.Client, name string, v chatv1.Visibility) int64 {
	t.Helper()
	res, err := c.Rooms.CreateRoom(context.Background(), &chatv1.CreateRoomRequest{Name: name, Visibility: v})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetRoom().GetId()
}

// TestReadState: a member's watermark moves forward only, clamped to the
// room's last seq, back with MarkUnread, and the unread count in ListRooms
// and JoinRoom follows it, leaving out the member's own messages.
func TestReadState(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		alice, bob, eve := testenv.NewClient(srv, p), testenv.NewClient(srv, p), testenv.NewClient(srv, p)
		alice.Signup(t, "alice_"+p.Name)
		bob.Signup(t, "bob_"+p.Name)
		eve.Signup(t, "eve_"+p.Name)
		room := newRoom(t, alice, "reads "+p.Name, chatv1.Visibility_VISIBILITY_PUBLIC)
		bob.Join(t, room)
		for i := range 5 {
			alice.Send(t, room, fmt.Sprintf("a%d", i), fmt.Sprintf("a%d", i)) // seq 1..5
		}
		bob.Send(t, room, "b0", "b0") // 6
		bob.Send(t, room, "b1", "b1") // 7

		wantReadState(t, roomOf(t, bob, room), 0, 5)
		wantReadState(t, roomOf(t, alice, room), 0, 2)
		joined, err := bob.Rooms.JoinRoom(ctx, &chatv1.JoinRoomRequest{RoomId: room})
		if err != nil {
			t.Fatal(err)
		}
		wantReadState(t, joined.GetRoom(), 0, 5)
		if r := roomOf(t, eve, room); r.GetReadSeq() != 0 || r.GetUnreadCount() != 0 || r.GetMentionCount() != 0 {
			t.Fatalf("a non-member sees read state %v", r)
		}

		t.Run("ForwardOnly", func(t *testing.T) {
			if got := markRead(t, bob, room, 3); got != 3 {
				t.Fatalf("read_seq %d after MarkRead(3)", got)
			}
			wantReadState(t, roomOf(t, bob, room), 3, 2)
			if got := markRead(t, bob, room, 2); got != 3 {
				t.Fatalf("MarkRead(2) after 3 answered %d, want 3 (forward only)", got)
			}
			wantReadState(t, roomOf(t, bob, room), 3, 2)
		})
		t.Run("ClampedToLastSeq", func(t *testing.T) {
			if got := markRead(t, bob, room, 999); got != 7 {
				t.Fatalf("MarkRead(999) answered %d, want the last seq 7", got)
			}
			wantReadState(t, roomOf(t, bob, room), 7, 0)
		})
		t.Run("MarkUnread", func(t *testing.T) {
			res, err := bob.Rooms.MarkUnread(ctx, &chatv1.MarkUnreadRequest{RoomId: room, Seq: 2})
			if err != nil || res.GetReadSeq() != 1 {
				t.Fatalf("MarkUnread(2) = %v, %v; want read_seq 1", res, err)
			}
			wantReadState(t, roomOf(t, bob, room), 1, 4)
		})
		t.Run("Muted", func(t *testing.T) {
			res, err := bob.Rooms.SetMuted(ctx, &chatv1.SetMutedRequest{RoomId: room, Muted: true})
			if err != nil || !res.GetRoom().GetMuted() || res.GetRoom().GetUnreadCount() != 4 {
				t.Fatalf("SetMuted(true) = %v, %v; want muted, still 4 unread", res, err)
			}
			if !roomOf(t, bob, room).GetMuted() || roomOf(t, alice, room).GetMuted() {
				t.Fatal("the mute is not bob's own")
			}
			if _, err := bob.Rooms.SetMuted(ctx, &chatv1.SetMutedRequest{RoomId: room}); err != nil || roomOf(t, bob, room).GetMuted() {
				t.Fatalf("unmute: %v", err)
			}
		})
		t.Run("Mentions", func(t *testing.T) {
			markRead(t, bob, room, 999)
			named := alice.Send(t, room, "look @bob_"+p.Name, "m1").GetSeq()
			alice.Send(t, room, "@room and @BOB_"+p.Name+" too", "m2")
			alice.Send(t, room, "@room everyone", "m3")
			alice.Send(t, room, "`@bob_"+p.Name+"` in code is no mention", "m4")
			bob.Send(t, room, "I name myself @bob_"+p.Name, "m5")
			r := roomOf(t, bob, room)
			if r.GetUnreadCount() != 4 || r.GetMentionCount() != 3 {
				t.Fatalf("unread %d, mentions %d; want 4 and 3", r.GetUnreadCount(), r.GetMentionCount())
			}
			if _, err := alice.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: room, MessageSeq: named}); err != nil {
				t.Fatal(err)
			}
			if r := roomOf(t, bob, room); r.GetUnreadCount() != 3 || r.GetMentionCount() != 2 {
				t.Fatalf("after a delete: unread %d, mentions %d; want 3 and 2", r.GetUnreadCount(), r.GetMentionCount())
			}
			if r := roomOf(t, alice, room); r.GetMentionCount() != 0 {
				t.Fatalf("alice has %d mentions; her own @room ones do not count", r.GetMentionCount())
			}
		})
		t.Run("Errors", func(t *testing.T) {
			private := newRoom(t, alice, "hidden reads "+p.Name, chatv1.Visibility_VISIBILITY_PRIVATE)
			cases := []struct {
				name   string
				roomID int64
				code   connect.Code
			}{
				{"PrivateRoomNotFound", private, connect.CodeNotFound},
				{"MissingRoomNotFound", 987654321, connect.CodeNotFound},
				{"PublicRoomNotJoined", room, connect.CodePermissionDenied},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, err := eve.Rooms.MarkRead(ctx, &chatv1.MarkReadRequest{RoomId: c.roomID, Seq: 1})
					wantCode(t, err, c.code)
					_, err = eve.Rooms.MarkUnread(ctx, &chatv1.MarkUnreadRequest{RoomId: c.roomID, Seq: 1})
					wantCode(t, err, c.code)
					_, err = eve.Rooms.ListReadReceipts(ctx, &chatv1.ListReadReceiptsRequest{RoomId: c.roomID})
					wantCode(t, err, c.code)
					_, err = eve.Rooms.SetMuted(ctx, &chatv1.SetMutedRequest{RoomId: c.roomID, Muted: true})
					wantCode(t, err, c.code)
				})
			}
			_, err := eve.Rooms.MarkUnread(ctx, &chatv1.MarkUnreadRequest{RoomId: room, Seq: 0})
			wantCode(t, err, connect.CodeInvalidArgument)
		})
	})
}

// TestReadReceipts: members see each other's watermarks only while both
// share them; a user who turns sharing off is left out and sees nobody.
func TestReadReceipts(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		alice, bob := testenv.NewClient(srv, p), testenv.NewClient(srv, p)
		alice.Signup(t, "ralice_"+p.Name)
		bob.Signup(t, "rbob_"+p.Name)
		room := newRoom(t, alice, "receipts "+p.Name, chatv1.Visibility_VISIBILITY_PUBLIC)
		bob.Join(t, room)
		alice.Send(t, room, "one", "1")
		alice.Send(t, room, "two", "2")
		markRead(t, alice, room, 2)
		markRead(t, bob, room, 1)
		receipts := func(c *testenv.Client) map[string]int64 {
			t.Helper()
			res, err := c.Rooms.ListReadReceipts(ctx, &chatv1.ListReadReceiptsRequest{RoomId: room})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int64{}
			for _, r := range res.GetReceipts() {
				out[fmt.Sprint(r.GetUserId())] = r.GetReadSeq()
			}
			return out
		}
		aliceID, bobID := fmt.Sprint(userID(t, alice)), fmt.Sprint(userID(t, bob))

		set, err := bob.Users.GetSettings(ctx, &chatv1.GetSettingsRequest{})
		if err != nil || !set.GetSettings().GetShareReadReceipts() {
			t.Fatalf("default settings = %v, %v; receipts are shared by default", set, err)
		}
		if got := receipts(alice); got[aliceID] != 2 || got[bobID] != 1 || len(got) != 2 {
			t.Fatalf("alice sees %v, want both", got)
		}
		shareReceipts(t, bob, false)
		if got := receipts(alice); got[bobID] != 0 || len(got) != 1 {
			t.Fatalf("alice sees %v after bob stopped sharing", got)
		}
		if got := receipts(bob); len(got) != 0 {
			t.Fatalf("bob, who does not share, sees %v", got)
		}
		// An update that names no setting changes none.
		if res, err := bob.Users.UpdateSettings(ctx, &chatv1.UpdateSettingsRequest{}); err != nil || res.GetSettings().GetShareReadReceipts() {
			t.Fatalf("empty update = %v, %v", res, err)
		}
		shareReceipts(t, bob, true)
		if got := receipts(bob); got[aliceID] != 2 || got[bobID] != 1 {
			t.Fatalf("bob sees %v after sharing again", got)
		}
	})
}

func userID(t *testing.T, c *testenv.Client) int64 {
	t.Helper()
	res, err := c.Auth.GetMe(context.Background(), &chatv1.GetMeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetUser().GetId()
}

// nextEvents reads c's events until one matches stop, and returns those
// before it.
func nextEvents(t *testing.T, ws *testenv.WS, stop func(*chatv1.Event) bool) []*chatv1.Event {
	t.Helper()
	var seen []*chatv1.Event
	for {
		ev := ws.Next(10 * time.Second).GetEvent()
		if ev == nil {
			continue
		}
		if stop(ev) {
			return seen
		}
		seen = append(seen, ev)
	}
}

func isMessage(roomID, seq int64) func(*chatv1.Event) bool {
	return func(ev *chatv1.Event) bool {
		return ev.GetRoomId() == roomID && ev.GetMessageCreated().GetMessage().GetSeq() == seq
	}
}

func receiptsIn(evs []*chatv1.Event) []*chatv1.ReadReceipt {
	var out []*chatv1.ReadReceipt
	for _, ev := range evs {
		if r := ev.GetReadReceipt(); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// TestReadMarkerAcrossProcesses: a room read through one chatd is read at
// once on the same user's session connected to another, and the room's
// members hear the receipt there, except those who do not share receipts;
// a user who stops sharing is heard no more and hears nobody.
func TestReadMarkerAcrossProcesses(t *testing.T) {
	env := testenv.ServerEnv(t)
	one, two := testenv.Start(t, env), testenv.Start(t, env)
	p := testenv.Protocols[0]
	bob, alice, carol := testenv.NewClient(one, p), testenv.NewClient(one, p), testenv.NewClient(one, p)
	bob.Signup(t, "xbob")
	alice.Signup(t, "xalice")
	carol.Signup(t, "xcarol")
	room := newRoom(t, alice, "across", chatv1.Visibility_VISIBILITY_PUBLIC)
	bob.Join(t, room)
	carol.Join(t, room)
	shareReceipts(t, carol, false)
	for i := range 3 {
		alice.Send(t, room, fmt.Sprintf("m%d", i), fmt.Sprintf("m%d", i))
	}
	bobWS, _ := testenv.DialWS(t, two.URL, bob.Token)
	aliceWS, _ := testenv.DialWS(t, two.URL, alice.Token)
	carolWS, _ := testenv.DialWS(t, one.URL, carol.Token)

	markRead(t, bob, room, 2)
	var marker *chatv1.ReadMarker
	nextEvents(t, bobWS, func(ev *chatv1.Event) bool { marker = ev.GetReadMarker(); return marker != nil })
	if marker.GetRoomId() != room || marker.GetReadSeq() != 2 {
		t.Fatalf("bob's other session heard %v, want room %d read to 2", marker, room)
	}
	sentinel := alice.Send(t, room, "after bob read", "s1").GetSeq()
	got := receiptsIn(nextEvents(t, aliceWS, isMessage(room, sentinel)))
	if len(got) != 1 || got[0].GetReadSeq() != 2 || got[0].GetRoomId() != room {
		t.Fatalf("alice heard receipts %v, want bob's at 2", got)
	}
	if got := receiptsIn(nextEvents(t, carolWS, isMessage(room, sentinel))); len(got) != 0 {
		t.Fatalf("carol, who does not share, heard %v", got)
	}
	nextEvents(t, bobWS, isMessage(room, sentinel)) // bob's own receipt among them

	t.Run("StopSharing", func(t *testing.T) {
		shareReceipts(t, bob, false)
		markRead(t, bob, room, sentinel) // not heard by anyone
		markRead(t, alice, room, sentinel)
		next := alice.Send(t, room, "after both read", "s2").GetSeq()
		if got := receiptsIn(nextEvents(t, aliceWS, isMessage(room, next))); len(got) != 1 || got[0].GetUserId() == userID(t, bob) {
			t.Fatalf("alice heard %v, want only her own", got)
		}
		if got := receiptsIn(nextEvents(t, bobWS, isMessage(room, next))); len(got) != 0 {
			t.Fatalf("bob, who stopped sharing, heard %v", got)
		}
	})
}

// sent is what a sender knows of a message it sent.
type sent struct {
	seq              int64
	mention, deleted bool
}

// TestUnreadCountsUnderConcurrentSends: 20 senders, who mention the reader
// or @room and delete some of their messages, and a reader who marks read
// and sends as they go end with the counts a recount in SQL gives and the
// sends imply.
func TestUnreadCountsUnderConcurrentSends(t *testing.T) {
	env := testenv.ServerEnv(t)
	srv := testenv.Start(t, env)
	const senders, each = 20, 10
	ctx := context.Background()
	reader := testenv.NewClient(srv, testenv.Protocols[0])
	reader.Signup(t, "reader")
	room := newRoom(t, reader, "busy", chatv1.Visibility_VISIBILITY_PUBLIC)
	clients := make([]*testenv.Client, senders)
	for i := range clients {
		clients[i] = testenv.NewClient(srv, testenv.Protocols[i%len(testenv.Protocols)])
		clients[i].Signup(t, fmt.Sprintf("busy%02d", i))
		clients[i].Join(t, room)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		others []sent
		own    int
	)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				body := [...]string{"hi @reader", "all of @room", "plain", "plain too"}[j%4]
				res, err := c.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: room, Body: body, ClientMsgId: fmt.Sprint(j)})
				if err != nil {
					t.Errorf("send %q: %v", body, err)
					return
				}
				m := sent{seq: res.GetMessage().GetSeq(), mention: j%4 < 2, deleted: j%3 == 0}
				if m.deleted {
					if _, err := c.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: room, MessageSeq: m.seq}); err != nil {
						t.Errorf("delete %d: %v", m.seq, err)
						return
					}
				}
				mu.Lock()
				others = append(others, m)
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for k := 0; ; k++ {
		select {
		case <-done:
		default:
			r := roomOf(t, reader, room)
			if r.GetUnreadCount() < 0 || r.GetUnreadCount() > r.GetLastSeq()-r.GetReadSeq() || r.GetMentionCount() > r.GetUnreadCount() {
				t.Fatalf("impossible read state %v", r)
			}
			markRead(t, reader, room, max(r.GetLastSeq()-5, 0))
			if k%3 == 0 {
				reader.Send(t, room, fmt.Sprintf("mine, @room %d", k), fmt.Sprintf("r%d", k))
				own++
			}
			continue
		}
		break
	}
	r := roomOf(t, reader, room)
	var unread, mentions int64
	for _, m := range others {
		if m.seq > r.GetReadSeq() && !m.deleted {
			unread++
			if m.mention {
				mentions++
			}
		}
	}
	if got, want := r.GetUnreadCount(), unread; got != want || got != recount(t, env, room, userID(t, reader), r.GetReadSeq()) {
		t.Fatalf("unread %d after read_seq %d; the sends imply %d, SQL recounts %d", got, r.GetReadSeq(), want, recount(t, env, room, userID(t, reader), r.GetReadSeq()))
	}
	if r.GetMentionCount() != mentions {
		t.Fatalf("mentions %d after read_seq %d; the sends imply %d", r.GetMentionCount(), r.GetReadSeq(), mentions)
	}
	if n := len(allMessages(t, reader, room)); n != len(others)+own {
		t.Fatalf("%d messages stored, want %d", n, len(others)+own)
	}
	markRead(t, reader, room, r.GetLastSeq())
	if r := roomOf(t, reader, room); r.GetUnreadCount() != 0 || r.GetMentionCount() != 0 {
		t.Fatalf("read up: %v", r)
	}
}

// recount counts the room's unread messages for the user the slow way.
func recount(t *testing.T, env testenv.Env, roomID, userID, readSeq int64) int64 {
	t.Helper()
	db, err := sql.Open("mysql", env["PARLEY_MYSQL_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	err = db.QueryRow("SELECT COUNT(*) FROM messages WHERE room_id = ? AND seq > ? AND sender_id <> ? AND NOT deleted", roomID, readSeq, userID).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
