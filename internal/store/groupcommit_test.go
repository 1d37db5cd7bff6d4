package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
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
		users[i] = newUser(t, st, fmt.Sprintf("g%02d", i))
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
	msgs, err := st.MessagesAfter(context.Background(), testenv.General, 0, 1000)
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
	u := newUser(t, st, "mixer")
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

// TestGroupCommitAcrossRooms: concurrent sends to many rooms, with retries
// of stored messages and sends to a missing room mixed in, leave every room
// gapless; only the sends to the missing room fail.
func TestGroupCommitAcrossRooms(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	const rooms, each = 12, 10
	owner := newUser(t, st, "owner")
	ids := make([]int64, rooms)
	for i := range ids {
		r, _, err := st.CreateRoom(context.Background(), chat.NewRoom{Name: fmt.Sprintf("room%d", i), Visibility: chat.Public, OwnerID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
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
		msgs, err := st.MessagesAfter(context.Background(), room, 0, 100)
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
