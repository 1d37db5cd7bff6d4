package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

func openGroup(t *testing.T, st *store.Store, ids ...int64) (int64, bool) {
	t.Helper()
	id, created, err := st.OpenConversation(context.Background(), chat.NewConversation{Kind: chat.Group, MemberIDs: ids, Set: chat.MemberSet(ids)})
	if err != nil {
		t.Fatalf("open %v: %v", ids, err)
	}
	return id, created
}

// TestMemberSetFollowsMembers: a group's member_set is its current set's
// key, or NULL while another room has that set, and a group stops at
// chat.MaxGroupMembers under the room's lock.
func TestMemberSetFollowsMembers(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	st, db := open(t, dsn), rawDB(t, dsn)
	ctx := context.Background()
	var u []int64
	for i := range chat.MaxGroupMembers + 1 {
		u = append(u, newUser(t, st, fmt.Sprintf("set%d", i)).ID)
	}
	setOf := func(roomID int64) []byte {
		t.Helper()
		var set []byte
		if err := db.QueryRow("SELECT member_set FROM rooms WHERE id = ?", roomID).Scan(&set); err != nil {
			t.Fatal(err)
		}
		return set
	}

	g1, created := openGroup(t, st, u[0], u[1], u[2])
	if again, createdAgain := openGroup(t, st, u[2], u[0], u[1]); !created || createdAgain || again != g1 {
		t.Fatalf("opened %d (created %v), then %d (created %v)", g1, created, again, createdAgain)
	}
	if _, _, err := st.AddMember(ctx, g1, u[3], chat.Member); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(setOf(g1), chat.MemberSet(u[:4])) {
		t.Fatal("member_set does not name the group's new set")
	}
	g2, created := openGroup(t, st, u[0], u[1], u[2])
	if !created || g2 == g1 {
		t.Fatalf("the old set opened %d, created %v", g2, created)
	}
	if _, err := st.RemoveMember(ctx, g1, u[3]); err != nil {
		t.Fatal(err)
	}
	if setOf(g1) != nil {
		t.Fatal("two rooms claim one set")
	}
	if again, _ := openGroup(t, st, u[0], u[1], u[2]); again != g2 {
		t.Fatalf("the set opened %d, want %d", again, g2)
	}

	full, _ := openGroup(t, st, u[:chat.MaxGroupMembers]...)
	_, _, err := st.AddMember(ctx, full, u[chat.MaxGroupMembers], chat.Member)
	if !errors.Is(err, chat.ErrPrecondition) {
		t.Fatalf("an eleventh member: %v", err)
	}
	if r, err := st.Room(ctx, full); err != nil || r.MemberCount != chat.MaxGroupMembers {
		t.Fatalf("full group: %+v, %v", r, err)
	}
}
