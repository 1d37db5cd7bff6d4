package push

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

// messageItem is a message event of room with seq.
func messageItem(room, seq int64) *Item {
	return newItem(chat.Event{Kind: chat.MessageCreated, RoomID: room, Message: &chat.Message{RoomID: room, Seq: seq}})
}

func TestQueueKeepsOrderAndBound(t *testing.T) {
	q := newQueue(8)
	next := int64(1)
	taken := int64(1)
	// Interleave puts and takes so the slots are reused many times.
	for round := 0; round < 100; round++ {
		for q.len() < 6 {
			if !q.put(messageItem(1, next)) {
				t.Fatalf("put refused at %d waiting", q.len())
			}
			next++
		}
		for range 4 {
			if it := q.take(); it.ev.Seq() != taken {
				t.Fatalf("took seq %d, want %d", it.ev.Seq(), taken)
			}
			taken++
		}
	}
	for q.len() < 8 {
		q.put(messageItem(1, next))
		next++
	}
	if q.put(messageItem(1, 0)) {
		t.Fatal("a full queue accepted an event")
	}
	for q.take() != nil {
	}
	if q.items != nil {
		t.Fatal("a drained queue kept its storage")
	}
}

func presenceItem(uid, room int64, online bool) *Item {
	return newItem(chat.Event{Kind: chat.PresenceChanged, RoomID: room, UserID: uid, Online: online})
}

// sent is what the run loop writes for the queue's events, in order, as
// "kind user/room" (messages as "m seq").
func sent(q *queue) []string {
	var out []string
	for it := q.take(); it != nil; it = q.take() {
		events := it.batch
		if events == nil {
			events = []*Item{it}
		}
		for _, p := range events {
			switch ev := p.ev; ev.Kind {
			case chat.PresenceChanged:
				out = append(out, fmt.Sprintf("p%v %d/%d", ev.Online, ev.UserID, ev.RoomID))
			case chat.MemberJoined:
				out = append(out, fmt.Sprintf("j %d/%d", ev.Member.User.ID, ev.RoomID))
			default:
				out = append(out, fmt.Sprintf("m %d", ev.Seq()))
			}
		}
	}
	return out
}

// TestQueueGathersPresence: a user's presence told to many rooms takes one
// slot while it waits, so members of many rooms are not cut off when such
// users connect together; each user's events keep their order, and a
// change of state or of membership starts a new group.
func TestQueueGathersPresence(t *testing.T) {
	q := newQueue(8)
	// Two users come online in 100 rooms each, interleaved, with messages
	// in between: 202 events in 8 slots.
	for room := int64(1); room <= 100; room++ {
		for _, uid := range []int64{7, 9} {
			if !q.put(presenceItem(uid, room, true)) {
				t.Fatalf("refused user %d's presence in room %d with %d waiting", uid, room, q.len())
			}
		}
		if room%50 == 0 {
			q.put(messageItem(room, room))
		}
	}
	if n := q.len(); n != 4 {
		t.Fatalf("%d slots taken, want 4 (two groups, two messages)", n)
	}
	got := sent(q)
	var want []string
	for _, uid := range []int64{7, 9} {
		for room := 1; room <= 100; room++ {
			want = append(want, fmt.Sprintf("ptrue %d/%d", uid, room))
		}
	}
	want = append(want, "m 50", "m 100")
	if !slices.Equal(got, want) {
		t.Fatalf("sent %v\nwant %v", got, want)
	}

	// Offline after online, and a join between two presence events of the
	// same state, keep their order.
	q.put(presenceItem(7, 1, true))
	q.put(presenceItem(7, 2, false))
	q.put(presenceItem(7, 3, true))
	q.put(newItem(chat.Event{Kind: chat.MemberJoined, RoomID: 4, Member: &chat.Membership{User: chat.User{ID: 7}}}))
	q.put(presenceItem(7, 4, true))
	q.put(presenceItem(7, 5, false))
	q.put(presenceItem(7, 6, false))
	want = []string{"ptrue 7/1", "pfalse 7/2", "ptrue 7/3", "j 7/4", "ptrue 7/4", "pfalse 7/5", "pfalse 7/6"}
	if got := sent(q); !slices.Equal(got, want) {
		t.Fatalf("sent %v\nwant %v", got, want)
	}
	if q.items != nil || q.groups != nil {
		t.Fatal("a drained queue kept its storage")
	}
}
