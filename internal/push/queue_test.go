package push

import (
	"testing"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

func TestQueueKeepsOrderAndBound(t *testing.T) {
	q := newQueue(8)
	next := int64(1)
	taken := int64(1)
	// Interleave puts and takes so the slots are reused many times.
	for round := 0; round < 100; round++ {
		for q.len() < 6 {
			ok, _ := q.put(newItem(&chatv1.Event{Seq: next}))
			if !ok {
				t.Fatalf("put refused at %d waiting", q.len())
			}
			next++
		}
		for range 4 {
			if it := q.take(); it.ev.GetSeq() != taken {
				t.Fatalf("took seq %d, want %d", it.ev.GetSeq(), taken)
			}
			taken++
		}
	}
	for q.len() < 8 {
		q.put(newItem(&chatv1.Event{Seq: next}))
		next++
	}
	if ok, crowded := q.put(newItem(&chatv1.Event{})); ok || !crowded {
		t.Fatal("a full queue accepted an event")
	}
	for q.take() != nil {
	}
	if q.items != nil {
		t.Fatal("a drained queue kept its storage")
	}
}
