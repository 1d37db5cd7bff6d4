package chat

import (
	"bytes"
	"testing"
)

// TestMemberSet: the key of a set of people is the same whatever the order
// of their ids, and differs for any other set, a subset included.
func TestMemberSet(t *testing.T) {
	key := MemberSet([]int64{3, 1, 2})
	if !bytes.Equal(key, MemberSet([]int64{1, 2, 3})) || !bytes.Equal(key, MemberSet([]int64{2, 3, 1})) {
		t.Fatal("the order of the ids changes the key")
	}
	if len(key) != 32 {
		t.Fatalf("key of %d bytes, want SHA-256's 32", len(key))
	}
	for _, other := range [][]int64{{1, 2}, {1, 2, 4}, {1, 2, 3, 4}, {12, 3}} {
		if bytes.Equal(key, MemberSet(other)) {
			t.Fatalf("%v has the key of {1, 2, 3}", other)
		}
	}
}

// TestMayLeave: only a direct room refuses a leave.
func TestMayLeave(t *testing.T) {
	for kind, refused := range map[RoomKind]bool{Channel: false, Group: false, Direct: true} {
		if err := mayLeave(Room{Kind: kind}); (err != nil) != refused {
			t.Errorf("kind %d: leave answered %v", kind, err)
		}
	}
}
