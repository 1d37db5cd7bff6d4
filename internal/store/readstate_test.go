package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

// Kinds of timeline_changes rows, as the migration numbers them.
const (
	changeDeleted  = 3
	changeReaction = 4
)

// rawDB opens the store's database for what the timeline writes (deletes,
// reactions, mentions), as plain SQL, and for recounts.
func rawDB(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// change writes a timeline entry other than a message, as the timeline
// does: the room's next seq and change number, under the room row's lock;
// a delete also empties the message and drops its mentions.
func change(tb testing.TB, db *sql.DB, roomID int64, kind int, messageSeq, userID int64) {
	tb.Helper()
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	var last, changes int64
	if err := tx.QueryRow("SELECT last_seq, change_count FROM rooms WHERE id = ? FOR UPDATE", roomID).Scan(&last, &changes); err != nil {
		tb.Fatal(err)
	}
	stmts := [][]any{
		{"INSERT INTO timeline_changes (room_id, seq, change_no, kind, message_seq, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			roomID, last + 1, changes + 1, kind, messageSeq, userID, time.Now().UTC()},
		{"UPDATE rooms SET last_seq = ?, change_count = ? WHERE id = ?", last + 1, changes + 1, roomID},
	}
	if kind == changeDeleted {
		stmts = append(stmts,
			[]any{"UPDATE messages SET deleted = TRUE, body = '' WHERE room_id = ? AND seq = ?", roomID, messageSeq},
			[]any{"DELETE FROM mentions WHERE room_id = ? AND seq = ?", roomID, messageSeq})
	}
	for _, s := range stmts {
		if _, err := tx.Exec(s[0].(string), s[1:]...); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// mention records that the message at seq, sent by senderID, mentions
// userID (chat.RoomMention for @room).
func mention(tb testing.TB, db *sql.DB, roomID, seq, userID, senderID int64) {
	tb.Helper()
	_, err := db.Exec("INSERT INTO mentions (room_id, seq, user_id, sender_id, position) VALUES (?, ?, ?, ?, 0)", roomID, seq, userID, senderID)
	if err != nil {
		tb.Fatal(err)
	}
}

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
	m, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
		RoomID: roomID, SenderID: u.ID, Body: "body " + id, ClientMsgID: id, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m.Seq
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
		if r.ID == roomID && r != room {
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
	var seqs []int64
	for i := range 30 {
		u := senders[i%len(senders)]
		seq := send(t, st, room.ID, u, fmt.Sprint(i))
		seqs = append(seqs, seq)
		switch i % 5 {
		case 0:
			mention(t, db, room.ID, seq, reader.ID, u.ID)
		case 1:
			mention(t, db, room.ID, seq, chat.RoomMention, u.ID)
		case 2:
			mention(t, db, room.ID, seq, reader.ID, u.ID)
			mention(t, db, room.ID, seq, chat.RoomMention, u.ID)
		}
		switch i % 7 {
		case 3:
			change(t, db, room.ID, changeReaction, seqs[i/2], b.ID)
		case 5:
			change(t, db, room.ID, changeDeleted, seqs[i-2], u.ID)
		}
	}
	change(t, db, room.ID, changeDeleted, seqs[1], reader.ID) // the reader's own
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
	if last.UnreadCount == 0 || last.MentionCount == 0 {
		t.Fatalf("the case counts nothing: %+v", last)
	}
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

// TestCountsUnderConcurrentChanges: 20 senders, deletes and mentions going
// on, and a reader marking read meanwhile; every figure the reader is
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
				seq := send(t, st, room.ID, u, fmt.Sprintf("%d-%d", i, j))
				switch rand.N(6) {
				case 0:
					mention(t, db, room.ID, seq, reader.ID, u.ID)
				case 1:
					mention(t, db, room.ID, seq, chat.RoomMention, u.ID)
				case 2:
					change(t, db, room.ID, changeDeleted, seq, u.ID)
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
		if _, err := st.MoveReadSeq(ctx, room.ID, reader.ID, r.LastSeq-rand.Int64N(10), false); err != nil {
			t.Fatal(err)
		}
	}
	wantCounts(t, st, db, room.ID, reader)
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
		{"Deleted", func() { change(t, db, room.ID, changeDeleted, first, a.ID) }},
		{"MentionedByEdit", func() {
			mention(t, db, room.ID, second, reader.ID, a.ID)
			change(t, db, room.ID, changeReaction, second, a.ID) // the edit's entry
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
