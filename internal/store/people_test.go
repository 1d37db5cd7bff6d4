package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

func named(t *testing.T, st *store.Store, username, display string) chat.User {
	t.Helper()
	u := newUser(t, st, username)
	u, _, err := st.SetProfile(context.Background(), u.ID, display, "")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func found(t *testing.T, st *store.Store, viewer int64, q string, limit int) string {
	t.Helper()
	us, err := st.SearchUsers(context.Background(), viewer, q, limit)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	out := make([]string, len(us))
	for i, u := range us {
		if u.Email != "" {
			t.Fatalf("search %q returned an email: %+v", q, u)
		}
		out[i] = u.Username
	}
	return strings.Join(out, ",")
}

// TestSearchUsersMatchesPrefixesLiterally: %, _ and the escape character
// itself match only themselves; case and accents are ignored; a user who
// matches by both keys is listed once; the limit and username order hold.
func TestSearchUsersMatchesPrefixesLiterally(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	viewer := newUser(t, st, "viewer")
	named(t, st, "a_b1", "one")
	named(t, st, "axb1", "two")
	named(t, st, "pct", "100% sure")
	named(t, st, "pcx", "100x sure")
	named(t, st, "bang", "wow!%")
	named(t, st, "bangx", "wow!x")
	named(t, st, "ecole", "École")
	named(t, st, "oneself", "oneself")
	for _, tc := range []struct{ name, q, want string }{
		{"Underscore", "a_", "a_b1"},
		{"Percent", "100%", "pct"},
		{"Escape", "wow!%", "bang"},
		{"EscapeAlone", "wow!", "bang,bangx"},
		{"Case", "A_B", "a_b1"},
		{"Accents", "ECOLE", "ecole"},
		{"BothKeysOnce", "ones", "oneself"},
		{"DisplayAndUsername", "one", "a_b1,oneself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := found(t, st, viewer.ID, tc.q, 20); got != tc.want {
				t.Fatalf("search %q = %q, want %q", tc.q, got, tc.want)
			}
		})
	}
	if got := found(t, st, viewer.ID, "pc", 1); got != "pct" {
		t.Fatalf("limit 1 gave %q", got)
	}
}

// TestAskFromBothSidesAtOnce: two people asking each other at the same
// moment end as friends with no request left, whichever commits first.
func TestAskFromBothSidesAtOnce(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	ctx := context.Background()
	for i := range 10 {
		a, b := newUser(t, st, "both_a"+string(rune('a'+i))), newUser(t, st, "both_b"+string(rune('a'+i)))
		var wg sync.WaitGroup
		asked := make([]chat.Asked, 2)
		for j, pair := range [][2]int64{{a.ID, b.ID}, {b.ID, a.ID}} {
			wg.Go(func() {
				var err error
				if asked[j], err = st.AskFriend(ctx, pair[0], pair[1], time.Now().UTC(), func(chat.Relation) error { return nil }); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if asked[0]+asked[1] != chat.Requested+chat.Befriended {
			t.Fatalf("outcomes %v; want one request and one befriending", asked)
		}
		list, err := st.Friends(ctx, a.ID)
		if err != nil || len(list.Friends) != 1 || len(list.Incoming)+len(list.Outgoing) != 0 {
			t.Fatalf("a's list %+v, %v; want b as friend and no requests", list, err)
		}
	}
}

// TestBlockEndsEverythingBetweenThePair: a block removes the friendship's
// two rows and requests both ways, and the check under the pair's lock
// refuses the next request.
func TestBlockEndsEverythingBetweenThePair(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	ctx := context.Background()
	a, b, c := newUser(t, st, "blk_a"), newUser(t, st, "blk_b"), newUser(t, st, "blk_c")
	ok := func(chat.Relation) error { return nil }
	now := time.Now().UTC()
	for _, pair := range [][2]int64{{a.ID, b.ID}, {b.ID, a.ID}, {c.ID, a.ID}} {
		if _, err := st.AskFriend(ctx, pair[0], pair[1], now, ok); err != nil {
			t.Fatal(err)
		}
	}
	for blocked, want := range map[int64]chat.Ended{b.ID: {Added: true, Friendship: true}, c.ID: {Added: true, Request: true}} {
		if ended, err := st.Block(ctx, a.ID, blocked, now); err != nil || ended != want {
			t.Fatalf("block %d: %+v, %v; want %+v", blocked, ended, err, want)
		}
	}
	if ended, err := st.Block(ctx, a.ID, b.ID, now); err != nil || ended != (chat.Ended{}) {
		t.Fatalf("second block: %+v, %v; want nothing ended", ended, err)
	}
	for _, id := range []int64{a.ID, b.ID, c.ID} {
		list, err := st.Friends(ctx, id)
		if err != nil || len(list.Friends)+len(list.Incoming)+len(list.Outgoing) != 0 {
			t.Fatalf("user %d after the blocks: %+v, %v", id, list, err)
		}
	}
	refuse := errors.New("refused")
	_, err := st.AskFriend(ctx, b.ID, a.ID, now, func(r chat.Relation) error {
		if !r.BlockedBy {
			t.Errorf("relation %+v; want blocked by a", r)
		}
		return refuse
	})
	if !errors.Is(err, refuse) {
		t.Fatalf("ask after the block: %v", err)
	}
	if _, err := st.Block(ctx, a.ID, 1<<40, now); !errors.Is(err, chat.ErrNotFound) {
		t.Fatalf("block of no user: %v", err)
	}
}
