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
	"github.com/parley-chat/parley/internal/search"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestGroupCommitConcurrentRetries: copies of one message sent at once (a
// client retrying before its first attempt was answered) store it once, and
// every copy gets the stored message; fresh messages in the same batches
// keep gapless seqs.
func TestGroupCommitConcurrentRetries(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	const senders, copies = 20, 3
	users := make([]chat.User, senders)
	for i := range users {
		users[i] = newMember(t, st, fmt.Sprintf("g%02d", i))
	}
	type outcome struct {
		msg     chat.Message
		created bool
	}
	results := make([][]outcome, senders)
	var wg sync.WaitGroup
	for i, u := range users {
		results[i] = make([]outcome, copies)
		for c := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg, created, err := st.AppendMessage(context.Background(), chat.NewMessage{
					RoomID: testenv.General, SenderID: u.ID, Body: fmt.Sprintf("hello from %d", i),
					ClientMsgID: "same", CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
				})
				if err != nil {
					t.Errorf("append: %v", err)
				}
				results[i][c] = outcome{msg, created}
			}()
		}
	}
	wg.Wait()
	for i, rs := range results {
		created := 0
		for _, r := range rs {
			if r.created {
				created++
			}
			if r.msg.ID == 0 || r.msg.ID != rs[0].msg.ID || r.msg.Sender.ID != users[i].ID {
				t.Errorf("sender %d got messages %+v", i, rs)
			}
		}
		if created != 1 {
			t.Errorf("sender %d: %d copies created, want 1", i, created)
		}
	}
	msgs, err := st.MessagesAfter(context.Background(), 0, testenv.General, 0, 1000)
	if err != nil || len(msgs) != senders {
		t.Fatalf("%d rows (%v), want %d", len(msgs), err, senders)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("row %d has seq %d", i, m.Seq)
		}
	}
}

// TestGroupCommitMixesRetriesAndNewMessages: a batch holding both a retry
// of a stored message and new ones answers the retry with the stored
// message and gives the new ones the next seqs.
func TestGroupCommitMixesRetriesAndNewMessages(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	u := newMember(t, st, "mixer")
	send := func(id string) (chat.Message, bool, error) {
		return st.AppendMessage(context.Background(), chat.NewMessage{
			RoomID: testenv.General, SenderID: u.ID, Body: "body " + id, ClientMsgID: id, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
		})
	}
	stored, _, err := send("m0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("m%d", i%10) // m0 is a retry; m1..m9 repeat too
			msg, _, err := send(id)
			if err != nil {
				t.Errorf("%s: %v", id, err)
			}
			if id == "m0" && msg.ID != stored.ID {
				t.Errorf("retry of m0 got %+v, want %+v", msg, stored)
			}
		}()
	}
	wg.Wait()
	last, err := st.LastSeqs(context.Background(), []int64{testenv.General})
	if err != nil || last[testenv.General] != 10 {
		t.Fatalf("last seq %v (%v), want 10", last, err)
	}
}

// TestAppendMessageUnknownRoom: a missing room is not found, for a lone
// call and for a batch.
func TestAppendMessageUnknownRoom(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	u := newUser(t, st, "lost")
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
				RoomID: 9999, SenderID: u.ID, Body: "x", ClientMsgID: fmt.Sprint(i), CreatedAt: time.Now().UTC(),
			})
			if !errors.Is(err, chat.ErrNotFound) {
				t.Errorf("append to a missing room: %v", err)
			}
		}()
	}
	wg.Wait()
}

// TestAppendMessageNonMember: a sender who is not a member of the room is
// not found, also when members' sends share the batch; theirs are stored
// with gapless seqs.
func TestAppendMessageNonMember(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	owner, outsider := newUser(t, st, "owner"), newUser(t, st, "outsider")
	room := newRooms(t, st, owner, 1)[0]
	const each = 20
	var wg sync.WaitGroup
	for i := range each {
		for _, u := range []chat.User{owner, outsider} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
					RoomID: room, SenderID: u.ID, Body: "hello", ClientMsgID: fmt.Sprint(i), CreatedAt: time.Now().UTC(),
				})
				if member := u.ID == owner.ID; member && err != nil || !member && !errors.Is(err, chat.ErrNotFound) {
					t.Errorf("%s's send: %v", u.Username, err)
				}
			}()
		}
	}
	wg.Wait()
	msgs, err := st.MessagesAfter(context.Background(), 0, room, 0, 100)
	if err != nil || len(msgs) != each {
		t.Fatalf("%d messages (%v), want the owner's %d", len(msgs), err, each)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) || m.Sender.ID != owner.ID {
			t.Fatalf("message %d: seq %d from %s", i, m.Seq, m.Sender.Username)
		}
	}
}

// TestGroupCommitAcrossRooms: concurrent sends to many rooms, with retries
// of stored messages and sends to a missing room mixed in, leave every room
// gapless; only the sends to the missing room fail.
func TestGroupCommitAcrossRooms(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	const rooms, each = 12, 10
	owner := newUser(t, st, "owner")
	ids := newRooms(t, st, owner, rooms)
	send := func(room int64, id string) error {
		_, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
			RoomID: room, SenderID: owner.ID, Body: "body " + id, ClientMsgID: id, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
		})
		return err
	}
	var wg sync.WaitGroup
	for i, room := range ids {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range each {
				for range 2 { // every message twice, as after a lost acknowledgement
					if err := send(room, fmt.Sprintf("r%d-m%d", i, j)); err != nil {
						t.Errorf("room %d: %v", room, err)
					}
				}
			}
		}()
		go func() {
			defer wg.Done()
			if err := send(99999, fmt.Sprint("lost", i)); !errors.Is(err, chat.ErrNotFound) {
				t.Errorf("send to a missing room: %v", err)
			}
		}()
	}
	wg.Wait()
	last, err := st.LastSeqs(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, room := range ids {
		msgs, err := st.MessagesAfter(context.Background(), 0, room, 0, 100)
		if err != nil || len(msgs) != each || last[room] != each {
			t.Fatalf("room %d: %d messages, last seq %d (%v); want %d", room, len(msgs), last[room], err, each)
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) || m.Sender.Username != "owner" || m.ID == 0 {
				t.Fatalf("room %d row %d: %+v", room, i, m)
			}
		}
	}
}

// TestGroupCommitSameIDInSeveralRooms: one sender using one client id in
// several rooms at once sends several messages (the id is unique per
// sender and room), and each acknowledgement is the message stored in the
// room it was sent to, its sender shown with their picture (these batches
// span rooms, and a several-room batch answers as a one-room batch does).
func TestGroupCommitSameIDInSeveralRooms(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	const rooms, senders = 12, 10
	owner := newUser(t, st, "owner")
	ids := newRooms(t, st, owner, rooms)
	users := newMembers(t, st, "s", senders, ids)
	for _, u := range users {
		if _, err := st.SetAvatar(context.Background(), u.ID, "avatar-"+u.Username, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, u := range users {
		for _, room := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf("%s in %d", u.Username, room)
				msg, created, err := st.AppendMessage(context.Background(), chat.NewMessage{
					RoomID: room, SenderID: u.ID, Body: body, ClientMsgID: "same", CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
				})
				if err != nil || !created || msg.RoomID != room || msg.Body != body || msg.Sender.ID != u.ID || msg.Sender.Avatar != "avatar-"+u.Username {
					t.Errorf("send %q: created %v, %v, acknowledged as %+v", body, created, err, msg)
				}
			}()
		}
	}
	wg.Wait()
	for _, room := range ids {
		msgs, err := st.MessagesAfter(context.Background(), 0, room, 0, 100)
		if err != nil || len(msgs) != senders {
			t.Errorf("room %d holds %d messages (%v), want %d", room, len(msgs), err, senders)
		}
	}
}

// TestGroupCommitRandomizedAcks: many senders send to several rooms with
// client ids that collide across rooms and within them, retrying at random,
// all at once. Every acknowledgement must be the one row MySQL holds for
// its sender, room and id, at the seq it was acknowledged with, and every
// room's seqs must be 1..n. The acknowledgement shows the message as
// reading it back does: its sender with their picture, its time as MySQL
// keeps it (to the microsecond, whatever the caller gave).
func TestGroupCommitRandomizedAcks(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	const rooms, senders, sends = 6, 8, 40
	owner := newUser(t, st, "owner")
	ids := newRooms(t, st, owner, rooms)
	users := newMembers(t, st, "r", senders, ids)
	pictured := map[int64]bool{}
	for _, u := range users[:senders/2] {
		if _, err := st.SetAvatar(context.Background(), u.ID, "avatar-"+u.Username, time.Now()); err != nil {
			t.Fatal(err)
		}
		pictured[u.ID] = true
	}
	type key struct {
		sender, room int64
		id           string
	}
	var mu sync.Mutex
	acks := map[key][]chat.Message{}
	var wg sync.WaitGroup
	for i, u := range users {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		for range sends {
			k := key{u.ID, ids[rng.IntN(rooms)], fmt.Sprintf("id%d", rng.IntN(5))}
			copies := 1 + rng.IntN(3) // retries, sent while the first waits
			for range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					msg, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
						RoomID: k.room, SenderID: k.sender, Body: fmt.Sprintf("%d/%d/%s", k.sender, k.room, k.id),
						ClientMsgID: k.id, CreatedAt: time.Now(),
					})
					if err != nil {
						t.Errorf("send %+v: %v", k, err)
						return
					}
					mu.Lock()
					acks[k] = append(acks[k], msg)
					mu.Unlock()
				}()
			}
		}
	}
	wg.Wait()
	stored := map[key]chat.Message{}
	for _, room := range ids {
		msgs, err := st.MessagesAfter(context.Background(), 0, room, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) {
				t.Fatalf("room %d: row %d has seq %d", room, i, m.Seq)
			}
			k := key{m.Sender.ID, room, m.ClientMsgID}
			if _, dup := stored[k]; dup {
				t.Fatalf("%+v stored twice", k)
			}
			stored[k] = m
		}
	}
	if len(stored) != len(acks) {
		t.Errorf("MySQL holds %d messages, %d were acknowledged", len(stored), len(acks))
	}
	for k, ms := range acks {
		row, ok := stored[k]
		for _, m := range ms {
			if !ok || m.ID != row.ID || m.RoomID != k.room || m.Seq != row.Seq || m.Body != row.Body ||
				m.ClientMsgID != row.ClientMsgID || !m.CreatedAt.Equal(row.CreatedAt) || m.Sender != row.Sender || (m.Sender.Avatar != "") != pictured[k.sender] {
				t.Errorf("%+v acknowledged as %+v, stored as %+v (%v)", k, m, row, ok)
			}
		}
	}
}

func newRooms(t *testing.T, st *store.Store, owner chat.User, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		r, _, err := st.CreateRoom(context.Background(), chat.NewRoom{Name: fmt.Sprintf("room%d", i), Visibility: chat.Public, OwnerID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	return ids
}

// newMembers is n new users, named prefix00, prefix01, …, who joined the
// rooms.
func newMembers(t *testing.T, st *store.Store, prefix string, n int, rooms []int64) []chat.User {
	t.Helper()
	users := make([]chat.User, n)
	for i := range users {
		users[i] = newUser(t, st, fmt.Sprintf("%s%02d", prefix, i))
		join(t, st, users[i].ID, rooms...)
	}
	return users
}

// TestGroupCommitLargeBatch: a batch of long Chinese messages has more
// search terms than one query carries (maxQueryBytes); every message is
// stored with every one of its terms.
func TestGroupCommitLargeBatch(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	// 48,000 terms, a second's work or more on a busy machine: a store
	// that waits longer than the tests' usual one.
	st, raw := openWaiting(t, dsn, 10*time.Second), rawDB(t, dsn)
	const senders = 12
	users := newMembers(t, st, "long", senders, []int64{testenv.General})
	want := make(map[int64]int, senders) // seq → terms
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			body := make([]rune, chat.MaxBodyChars)
			for k := range body {
				body[k] = rune(0x4e00 + rng.IntN(20000)) // CJK ideographs: a bigram per character
			}
			msg, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
				RoomID: testenv.General, SenderID: u.ID, Body: string(body), ClientMsgID: "long", CreatedAt: time.Now().UTC(),
			})
			if err != nil {
				t.Errorf("append: %v", err)
				return
			}
			mu.Lock()
			want[msg.Seq] = len(search.Terms(search.Normalize(string(body))))
			mu.Unlock()
		}()
	}
	wg.Wait()
	for seq, n := range want {
		var got int
		if err := raw.QueryRow("SELECT COUNT(*) FROM message_terms WHERE room_id = ? AND seq = ?", testenv.General, seq).Scan(&got); err != nil || got != n {
			t.Fatalf("message %d has %d terms (%v), want %d", seq, got, err, n)
		}
	}
	if len(want) != senders {
		t.Fatalf("%d messages stored, want %d", len(want), senders)
	}
}

// TestGroupCommitAttachesAnUploadOnce: sends racing to attach one upload,
// gathered into one batch behind a message waiting for the room's lock,
// leave it on exactly one message; the others hear failed_precondition.
func TestGroupCommitAttachesAnUploadOnce(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	st, raw := open(t, dsn), rawDB(t, dsn)
	alice := newMember(t, st, "alice")
	const racers = 20
	err := st.CreateUpload(context.Background(), chat.Attachment{
		ID: "once", Kind: chat.FileAttachment, Filename: "once.txt", ContentType: "text/plain", Size: 4,
		UploaderID: alice.ID, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	send := func(id string, uploads ...string) error {
		_, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
			RoomID: testenv.General, SenderID: alice.ID, Body: "file", AttachmentIDs: uploads,
			ClientMsgID: id, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
		})
		return err
	}
	// The room's row held, a first message's batch waits for it while the
	// racers queue up for the next one.
	lock, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec("SELECT last_seq FROM rooms WHERE id = ? FOR UPDATE", testenv.General); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, racers+1)
	go func() { errs <- send("first") }()
	time.Sleep(50 * time.Millisecond)
	for i := range racers {
		go func() { errs <- send(fmt.Sprintf("race-%d", i), "once") }()
	}
	time.Sleep(200 * time.Millisecond)
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	won := 0
	for range racers + 1 {
		switch err := <-errs; {
		case err == nil:
			won++
		case !errors.Is(err, chat.ErrPrecondition):
			t.Errorf("append: %v", err)
		}
	}
	if won != 2 {
		t.Fatalf("%d messages stored, want the first and one that attached the upload", won)
	}
}

// TestGroupCommitRoomGoneMidBatch: a room deleted while a batch of several
// rooms waits for its row sends the batch room by room: the other room's
// message is stored, the send to the deleted room hears not_found.
func TestGroupCommitRoomGoneMidBatch(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	st, raw := open(t, dsn), rawDB(t, dsn)
	owner := newUser(t, st, "owner")
	blocker, gone, kept := sameShardRooms(t, st, owner)
	lockRoom := func(id int64) *sql.Tx {
		t.Helper()
		tx, err := raw.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("SELECT last_seq FROM rooms WHERE id = ? FOR UPDATE", id); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	send := func(room int64) <-chan error {
		errs := make(chan error, 1)
		go func() {
			_, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
				RoomID: room, SenderID: owner.ID, Body: "hello", ClientMsgID: "m", CreatedAt: time.Now(),
			})
			errs <- err
		}()
		return errs
	}
	// A first batch waits for the blocker's row while the two sends queue
	// up behind it; once it goes, their batch waits for the doomed room's.
	holdBlocker, holdGone := lockRoom(blocker), lockRoom(gone)
	first := send(blocker)
	time.Sleep(50 * time.Millisecond)
	toGone, toKept := send(gone), send(kept)
	time.Sleep(50 * time.Millisecond)
	if err := holdBlocker.Rollback(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := holdGone.Exec("DELETE FROM rooms WHERE id = ?", gone); err != nil {
		t.Fatal(err)
	}
	if err := holdGone.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Errorf("send to the blocker: %v", err)
	}
	if err := <-toKept; err != nil {
		t.Errorf("send to the room kept: %v", err)
	}
	if err := <-toGone; !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("send to the deleted room: %v, want not_found", err)
	}
	msgs, err := st.MessagesAfter(context.Background(), 0, kept, 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Seq != 1 {
		t.Fatalf("the room kept holds %+v (%v), want its one message at seq 1", msgs, err)
	}
}

// sameShardRooms creates rooms until three share a commit queue.
func sameShardRooms(t *testing.T, st *store.Store, owner chat.User) (a, b, c int64) {
	t.Helper()
	shards := map[int64][]int64{}
	for i := 0; ; i++ {
		r, _, err := st.CreateRoom(context.Background(), chat.NewRoom{Name: fmt.Sprintf("shard%d", i), Visibility: chat.Public, OwnerID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		k := r.ID % store.CommitShards
		if shards[k] = append(shards[k], r.ID); len(shards[k]) == 3 {
			return shards[k][0], shards[k][1], shards[k][2]
		}
	}
}
