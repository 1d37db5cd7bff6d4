package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/parley-chat/parley/db/migrations"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

// rawDB opens the store's database for recounts.
func rawDB(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// change makes a timeline change as the service does, any change allowed.
func change(tb testing.TB, st *store.Store, c chat.Change) {
	tb.Helper()
	c.At, c.Check = time.Now().UTC().Truncate(time.Microsecond), func(chat.Message) error { return nil }
	if _, _, err := st.ChangeMessage(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
}

// deleteMessage deletes the message at seq.
func deleteMessage(tb testing.TB, st *store.Store, roomID, seq int64, by chat.User) {
	tb.Helper()
	change(tb, st, chat.Change{Kind: chat.MessageDeleted, RoomID: roomID, MessageSeq: seq, UserID: by.ID})
}

// The mentions a message may carry.
func mentioning(ids ...int64) chat.Mentions { return chat.Mentions{UserIDs: ids} }

var atRoom = chat.Mentions{Room: true}

// recount is the read state counted the slow way, from the messages
// themselves.
func recount(tb testing.TB, db *sql.DB, roomID, userID, readSeq int64) (unread, mentions int64) {
	tb.Helper()
	err := db.QueryRow(`SELECT COUNT(*) FROM messages WHERE room_id = ? AND seq > ? AND sender_id <> ? AND NOT deleted`,
		roomID, readSeq, userID).Scan(&unread)
	if err != nil {
		tb.Fatal(err)
	}
	err = db.QueryRow(`SELECT COUNT(DISTINCT n.seq) FROM mentions n JOIN messages m ON m.room_id = n.room_id AND m.seq = n.seq
		WHERE n.room_id = ? AND n.seq > ? AND n.user_id IN (?, 0) AND m.sender_id <> ? AND NOT m.deleted`,
		roomID, readSeq, userID, userID).Scan(&mentions)
	if err != nil {
		tb.Fatal(err)
	}
	return unread, mentions
}

func send(tb testing.TB, st *store.Store, roomID int64, u chat.User, id string) int64 {
	tb.Helper()
	return post(tb, st, roomID, u, id, chat.Mentions{})
}

// post sends a message with mentions.
func post(tb testing.TB, st *store.Store, roomID int64, u chat.User, id string, m chat.Mentions) int64 {
	tb.Helper()
	msg, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
		RoomID: roomID, SenderID: u.ID, Body: "body " + id, ClientMsgID: id, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
		Mentions: m,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return msg.Seq
}

// wantCounts checks the read state the store gives, alone and in the room
// list, against a recount.
func wantCounts(t *testing.T, st *store.Store, db *sql.DB, roomID int64, u chat.User) {
	t.Helper()
	room, role, err := st.RoomFor(context.Background(), u.ID, roomID)
	if err != nil || role == 0 {
		t.Fatalf("room for member: role %d, %v", role, err)
	}
	unread, mentions := recount(t, db, roomID, u.ID, room.ReadSeq)
	if room.UnreadCount != unread || room.MentionCount != mentions {
		t.Fatalf("read_seq %d of %d: unread %d, mentions %d; a recount says %d, %d",
			room.ReadSeq, room.LastSeq, room.UnreadCount, room.MentionCount, unread, mentions)
	}
	rooms, err := st.VisibleRooms(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.ID == roomID && !reflect.DeepEqual(r, room) {
			t.Fatalf("listed %+v, alone %+v", r, room)
		}
	}
}

// TestUnreadAndMentionCounts: at every watermark the counts equal a
// recount, with deletes (of others' messages and the reader's own),
// reactions, mentions of the reader, of @room and of both at once, and the
// reader's own messages and self-mentions, which do not count.
func TestUnreadAndMentionCounts(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.MySQLDSN(t)
	st, db := open(t, dsn), rawDB(t, dsn)
	reader, a, b := newUser(t, st, "reader"), newUser(t, st, "a"), newUser(t, st, "b")
	room, _, err := st.CreateRoom(ctx, chat.NewRoom{Name: "counts", Visibility: chat.Public, OwnerID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []chat.User{reader, b} {
		if _, _, err := st.AddMember(ctx, room.ID, u.ID, chat.Member); err != nil {
			t.Fatal(err)
		}
	}
	senders := []chat.User{a, reader, b, a, a, b, reader}
	kinds := []chat.Mentions{mentioning(reader.ID), atRoom, {UserIDs: []int64{reader.ID}, Room: true}, mentioning(b.ID), {}}
	var seqs []int64
	for i := range 30 {
		u := senders[i%len(senders)]
		seqs = append(seqs, post(t, st, room.ID, u, fmt.Sprint(i), kinds[i%len(kinds)]))
		switch i % 7 {
		case 3:
			change(t, st, chat.Change{Kind: chat.ReactionAdded, RoomID: room.ID, MessageSeq: seqs[i/2], UserID: b.ID, Emoji: "👍"})
		case 4: // an edit that takes a mention away or adds one
			change(t, st, chat.Change{Kind: chat.MessageEdited, RoomID: room.ID, MessageSeq: seqs[i-1], UserID: u.ID,
				Body: "edited", Mentions: kinds[(i+2)%len(kinds)]})
		case 5:
			deleteMessage(t, st, room.ID, seqs[i-2], u)
		}
	}
	deleteMessage(t, st, room.ID, seqs[1], reader) // the reader's own
	last, _, err := st.RoomFor(ctx, reader.ID, room.ID)
	if err != nil {
		t.Fatal(err)
	}
	for r := last.LastSeq; r >= 0; r-- {
		if _, err := st.MoveReadSeq(ctx, room.ID, reader.ID, r, true); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, st, db, room.ID, reader)
	}
	for r := int64(0); r <= last.LastSeq; r += 3 {
		if _, err := st.MoveReadSeq(ctx, room.ID, reader.ID, r, false); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, st, db, room.ID, reader)
	}
	if last.UnreadCount == 0 || last.MentionCount == 0 {
		t.Fatalf("the case counts nothing: %+v", last)
	}
	late := newUser(t, st, "late") // joins behind every delete and @room
	if _, _, err := st.AddMember(ctx, room.ID, late.ID, chat.Member); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, st, db, room.ID, late)
}

// TestMoveReadSeq: forward only unless back, clamped to the last seq, and
// Changed only when the watermark moved.
func TestMoveReadSeq(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.MySQLDSN(t)
	st := open(t, dsn)
	u, stranger := newUser(t, st, "mover"), newUser(t, st, "stranger")
	room, _, err := st.CreateRoom(ctx, chat.NewRoom{Name: "moves", Visibility: chat.Public, OwnerID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		send(t, st, room.ID, u, fmt.Sprint(i))
	}
	steps := []struct {
		name    string
		seq     int64
		back    bool
		want    int64
		changed bool
	}{
		{"Forward", 3, false, 3, true},
		{"Again", 3, false, 3, false},
		{"OlderIsNoOp", 1, false, 3, false},
		{"Clamped", 99, false, 5, true},
		{"Back", 1, true, 1, true},
		{"BackClamped", 99, true, 5, true},
	}
	for _, s := range steps {
		mv, err := st.MoveReadSeq(ctx, room.ID, u.ID, s.seq, s.back)
		if err != nil || mv.ReadSeq != s.want || mv.Changed != s.changed || !mv.ShareReceipts {
			t.Fatalf("%s: %+v, %v; want read_seq %d, changed %v", s.name, mv, err, s.want, s.changed)
		}
	}
	if _, err := st.MoveReadSeq(ctx, room.ID, stranger.ID, 1, false); !errors.Is(err, chat.ErrNotFound) {
		t.Fatalf("a non-member's watermark: %v, want not found", err)
	}
	if _, err := st.SetSettings(ctx, u.ID, chat.Settings{}); err != nil {
		t.Fatal(err)
	}
	if mv, err := st.MoveReadSeq(ctx, room.ID, u.ID, 1, true); err != nil || mv.ShareReceipts {
		t.Fatalf("after turning receipts off: %+v, %v", mv, err)
	}
}

// TestCountsUnderConcurrentChanges: 20 senders, mentions, edits and
// deletes going on, and a reader marking read (and back) meanwhile; every figure the reader is
// given is possible, and the last ones equal a recount.
func TestCountsUnderConcurrentChanges(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.MySQLDSN(t)
	st, db := open(t, dsn), rawDB(t, dsn)
	reader := newUser(t, st, "reader")
	room, _, err := st.CreateRoom(ctx, chat.NewRoom{Name: "busy", Visibility: chat.Public, OwnerID: reader.ID})
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 20, 15
	users := make([]chat.User, senders)
	for i := range users {
		users[i] = newUser(t, st, fmt.Sprintf("s%02d", i))
		if _, _, err := st.AddMember(ctx, room.ID, users[i].ID, chat.Member); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				kinds := []chat.Mentions{mentioning(reader.ID), atRoom, {}, {}, {}, {}}
				seq := post(t, st, room.ID, u, fmt.Sprintf("%d-%d", i, j), kinds[rand.N(len(kinds))])
				switch rand.N(6) {
				case 0:
					deleteMessage(t, st, room.ID, seq, u)
				case 1:
					change(t, st, chat.Change{Kind: chat.MessageEdited, RoomID: room.ID, MessageSeq: seq, UserID: u.ID,
						Body: "edited", Mentions: kinds[rand.N(len(kinds))]})
				case 2, 3: // forward moves of many members, batched together
					if _, err := st.MoveReadSeq(ctx, room.ID, u.ID, seq-rand.Int64N(5), false); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		r, _, err := st.RoomFor(ctx, reader.ID, room.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.UnreadCount < 0 || r.UnreadCount > r.LastSeq-r.ReadSeq || r.MentionCount > r.UnreadCount {
			t.Fatalf("impossible read state %+v", r)
		}
		if _, err := st.MoveReadSeq(ctx, room.ID, reader.ID, r.LastSeq-rand.Int64N(10), rand.N(4) == 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range append(users, reader) {
		wantCounts(t, st, db, room.ID, u)
	}
}

// TestCountsFollowChanges: counts a store gave before stay exact when the
// room changes after them: a new message, a delete, a mention of a message
// already there (written with an entry, as an edit does), a new watermark.
func TestCountsFollowChanges(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.MySQLDSN(t)
	st, db := open(t, dsn), rawDB(t, dsn)
	reader, a := newUser(t, st, "reader"), newUser(t, st, "a")
	room, _, err := st.CreateRoom(ctx, chat.NewRoom{Name: "changing", Visibility: chat.Public, OwnerID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AddMember(ctx, room.ID, reader.ID, chat.Member); err != nil {
		t.Fatal(err)
	}
	first := send(t, st, room.ID, a, "1")
	second := send(t, st, room.ID, a, "2")
	steps := []struct {
		name string
		do   func()
	}{
		{"Counted", func() {}},
		{"CountedAgain", func() {}},
		{"NewMessage", func() { send(t, st, room.ID, a, "3") }},
		{"OwnMessage", func() { send(t, st, room.ID, reader, "4") }},
		{"Deleted", func() { deleteMessage(t, st, room.ID, first, a) }},
		{"MentionedByEdit", func() {
			change(t, st, chat.Change{Kind: chat.MessageEdited, RoomID: room.ID, MessageSeq: second, UserID: a.ID,
				Body: "@reader", Mentions: mentioning(reader.ID)})
		}},
		{"MarkRead", func() {
			if _, err := st.MoveReadSeq(ctx, room.ID, reader.ID, second, false); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, s := range steps {
		s.do()
		t.Run(s.name, func(t *testing.T) { wantCounts(t, st, db, room.ID, reader) })
	}
}

// TestSenderCountsBackfilled: a database from before room_senders gets the
// counts of the messages already sent, so unread counts stay exact across
// the upgrade.
func TestSenderCountsBackfilled(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.MySQLDSN(t)
	st, db := open(t, dsn), rawDB(t, dsn)
	reader, writer := newUser(t, st, "reader"), newUser(t, st, "writer")
	for _, u := range []chat.User{reader, writer} {
		if _, _, err := st.AddMember(ctx, testenv.General, u.ID, chat.Member); err != nil {
			t.Fatal(err)
		}
	}
	for i, u := range []chat.User{writer, reader, writer, reader, writer} {
		send(t, st, testenv.General, u, fmt.Sprint(i))
	}
	// Back to the schema before room_senders, by the migrations' own Down
	// steps (sender_no comes back numbered), and up again on open.
	provider, err := goose.NewProvider(goose.DialectMySQL, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.DownTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	upgraded := open(t, dsn)
	for _, u := range []chat.User{reader, writer} {
		r, _, err := upgraded.RoomFor(ctx, u.ID, testenv.General)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(5 - map[int64]int{reader.ID: 2, writer.ID: 3}[u.ID]); r.UnreadCount != want {
			t.Errorf("%s: %d unread after the upgrade, want %d (the other's messages)", u.Username, r.UnreadCount, want)
		}
	}
	send(t, upgraded, testenv.General, writer, "after")
	wantCounts(t, upgraded, db, testenv.General, reader)
}
