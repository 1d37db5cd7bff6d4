package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

func open(t testing.TB, dsn string) *store.Store {
	t.Helper()
	return openWaiting(t, dsn, time.Second)
}

// openWaiting is open with the store's timeout for MySQL's answers.
func openWaiting(t testing.TB, dsn string, timeout time.Duration) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, timeout, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newUser(t testing.TB, st *store.Store, name string) chat.User {
	t.Helper()
	u, err := st.CreateUser(context.Background(), chat.User{Username: name, Email: name + "@example.com", DisplayName: name, CreatedAt: time.Now().UTC()}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newMember is a new user who joined testenv.General.
func newMember(t testing.TB, st *store.Store, name string) chat.User {
	t.Helper()
	u := newUser(t, st, name)
	join(t, st, u.ID, testenv.General)
	return u
}

// join makes the user a member of the rooms.
func join(tb testing.TB, st *store.Store, userID int64, rooms ...int64) {
	tb.Helper()
	for _, room := range rooms {
		if _, _, err := st.AddMember(context.Background(), room, userID, chat.Member); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestOpenCreatesDatabaseAndMigratesOnce(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	st := open(t, dsn)
	newUser(t, st, "first")
	again := open(t, dsn) // a second start applies nothing and keeps the data
	if _, err := again.UserByUsername(context.Background(), "FIRST"); err != nil {
		t.Fatalf("user lost or case-sensitive after reopening: %v", err)
	}
	rooms, err := again.VisibleRooms(context.Background(), 0)
	if err != nil || len(rooms) != 3 {
		t.Fatalf("default rooms = %v, %v; want general, random, tech once", rooms, err)
	}
}

func TestDuplicateUsersConflict(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	newUser(t, st, "dup")
	_, err := st.CreateUser(context.Background(), chat.User{Username: "DUP", Email: "x@example.com", CreatedAt: time.Now()}, "h")
	if !errors.Is(err, chat.ErrConflict) {
		t.Fatalf("duplicate username: %v", err)
	}
	_, err = st.CreateUser(context.Background(), chat.User{Username: "other", Email: "DUP@example.com", CreatedAt: time.Now()}, "h")
	if !errors.Is(err, chat.ErrConflict) {
		t.Fatalf("duplicate email (other case): %v", err)
	}
}

// TestAppendMessageGaplessUnderConcurrency: concurrent appends and retries
// to one room give seq 1..N with one row per client id.
func TestAppendMessageGaplessUnderConcurrency(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	const senders, each = 50, 8
	users := make([]chat.User, senders)
	for i := range users {
		users[i] = newMember(t, st, fmt.Sprintf("s%02d", i))
	}
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				// Every message is sent twice, as a client retrying after a
				// lost acknowledgement would.
				for range 2 {
					_, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
						RoomID: testenv.General, SenderID: u.ID, Body: fmt.Sprintf("%d-%d", i, j),
						ClientMsgID: fmt.Sprintf("m%d", j), CreatedAt: time.Now().UTC(),
					})
					if err != nil {
						t.Errorf("append: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	msgs, err := st.MessagesAfter(context.Background(), 0, testenv.General, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != senders*each {
		t.Fatalf("%d rows, want %d", len(msgs), senders*each)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("row %d has seq %d", i, m.Seq)
		}
	}
	last, err := st.LastSeqs(context.Background(), []int64{testenv.General})
	if err != nil || last[testenv.General] != senders*each {
		t.Fatalf("room last_seq = %v, %v", last, err)
	}
}

func TestSecretIsSharedByAllCallers(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	gen := func(v string) func() ([]byte, error) { return func() ([]byte, error) { return []byte(v), nil } }
	ka, err := a.Secret(context.Background(), "k", gen("from-a"))
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.Secret(context.Background(), "k", gen("from-b"))
	if err != nil || string(ka) != string(kb) {
		t.Fatalf("processes got different keys: %q vs %q (%v)", ka, kb, err)
	}
}

// TestTextRoundTripsExactly: arguments are escaped into the query text by
// the driver (InterpolateParams), so quotes, backslashes, NUL, wildcards and
// 4-byte characters must come back byte for byte and match nothing else.
func TestTextRoundTripsExactly(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	ctx := context.Background()
	u := newMember(t, st, "quoter")
	bodies := []string{
		`it's "quoted" \ back\\slash \' \"`,
		"nul\x00byte and \x1a ctrl-z",
		"100% _wild_ cards",
		"emoji 😀 and 中文",
		"'); DROP TABLE messages; --",
	}
	for i, b := range bodies {
		m, created, err := st.AppendMessage(ctx, chat.NewMessage{
			RoomID: testenv.General, SenderID: u.ID, Body: b, ClientMsgID: fmt.Sprintf("q%d", i), CreatedAt: time.Now().UTC(),
		})
		if err != nil || !created || m.Body != b {
			t.Fatalf("append %q: got %q, created %v, %v", b, m.Body, created, err)
		}
	}
	msgs, err := st.MessagesAfter(ctx, 0, testenv.General, 0, 100)
	if err != nil || len(msgs) != len(bodies) {
		t.Fatalf("%d messages read back, %v", len(msgs), err)
	}
	for i, m := range msgs {
		if m.Body != bodies[i] {
			t.Errorf("message %d: %q, want %q", i, m.Body, bodies[i])
		}
	}
	if _, err := st.UserByUsername(ctx, "quoter' OR '1'='1"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("a quoted lookup matched: %v", err)
	}
}

// TestRoomIDsAreRandom: ids tell nothing, neither how many rooms exist nor
// that a private one was created between two public ones.
func TestRoomIDsAreRandom(t *testing.T) {
	st := open(t, testenv.MySQLDSN(t))
	owner := newUser(t, st, "owner")
	var prev int64
	for i := range 8 {
		r, _, err := st.CreateRoom(context.Background(), chat.NewRoom{Name: fmt.Sprintf("r%d", i), Visibility: chat.Private, OwnerID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		// A random 63-bit id is below 2^40 once in 8 million draws.
		if r.ID < 1<<40 || r.ID == prev+1 {
			t.Fatalf("room %d has id %d after %d: sequential or small", i, r.ID, prev)
		}
		if got, err := st.Room(context.Background(), r.ID); err != nil || got.Name != r.Name {
			t.Fatalf("room %d not stored under its id: %+v, %v", r.ID, got, err)
		}
		prev = r.ID
	}
}

// TestMemberCountFollowsJoinsAndLeaves: the member count a room shows moves
// with every join and leave, and a second join or leave changes nothing.
func TestMemberCountFollowsJoinsAndLeaves(t *testing.T) {
	ctx := context.Background()
	st := open(t, testenv.MySQLDSN(t))
	owner, u := newUser(t, st, "owner"), newUser(t, st, "joiner")
	room, _, err := st.CreateRoom(ctx, chat.NewRoom{Name: "counted", Visibility: chat.Public, OwnerID: owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	want := func(step string, n int64) {
		t.Helper()
		r, err := st.Room(ctx, room.ID)
		if err != nil || r.MemberCount != n {
			t.Fatalf("%s: %d members, %v; want %d", step, r.MemberCount, err, n)
		}
		listed, _, err := st.RoomFor(ctx, owner.ID, room.ID)
		if err != nil || listed.MemberCount != n {
			t.Fatalf("%s: listed with %d members, %v; want %d", step, listed.MemberCount, err, n)
		}
	}
	want("created", 1)
	for _, step := range []struct {
		name string
		do   func() error
		n    int64
	}{
		{"joined", func() error { _, _, err := st.AddMember(ctx, room.ID, u.ID, chat.Member); return err }, 2},
		{"joined again", func() error { _, _, err := st.AddMember(ctx, room.ID, u.ID, chat.Member); return err }, 2},
		{"left", func() error { _, err := st.RemoveMember(ctx, room.ID, u.ID); return err }, 1},
		{"left again", func() error { _, err := st.RemoveMember(ctx, room.ID, u.ID); return err }, 1},
	} {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		want(step.name, step.n)
	}
}
