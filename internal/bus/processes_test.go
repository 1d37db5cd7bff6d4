package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// The bus's metrics the tests read.
const (
	receivedMetric  = "parley_bus_messages_received_total"
	publishedMetric = "parley_bus_messages_published_total"
	topicsMetric    = "parley_bus_topics"
)

// TestProcessesHearOnlyTheirTopics: three chatd processes, on one Redis and
// on a Redis Cluster. Room X has members connected to A and B, room Y one
// connected to C. A burst in X reaches both of X's sockets, and C, which has
// no member of X, receives not one message of it (its received counter
// stays put) while A and B receive all; a message in Y reaches C. A
// session's end goes to its user's topic: dave's socket on B closes, and
// neither A nor C hears of it.
func TestProcessesHearOnlyTheirTopics(t *testing.T) {
	t.Parallel()
	testenv.EachRedisEnv(t, testenv.ServerEnv, func(t *testing.T, env testenv.Env) {
		t.Parallel()
		a, b, c := testenv.StartProcess(t, env), testenv.StartProcess(t, env), testenv.StartProcess(t, env)
		signup := func(name string) *testenv.Client {
			cl := testenv.NewClient(a, testenv.Protocols[0])
			cl.Signup(t, name)
			return cl
		}
		alice, bob, carol, dave := signup("alice"), signup("bob"), signup("carol"), signup("dave")
		onA, _ := testenv.DialWS(t, a.URL, alice.Token)
		x := createRoom(t, alice, "x")
		bob.Join(t, x)
		y := createRoom(t, carol, "y")
		// Every process hears the directory: once it has told both rooms'
		// last member counts, none of its listings is due any more.
		awaitListings(t, onA, map[int64]int64{x: 2, y: 1})

		onB, _ := testenv.DialWS(t, b.URL, bob.Token)
		onC, _ := testenv.DialWS(t, c.URL, carol.Token)
		// Each process listens to its user, the user's room and the
		// directory.
		for _, srv := range []*testenv.Server{a, b, c} {
			waitMetric(t, srv, topicsMetric, 3)
		}
		// C has published carol's presence in Y; a message in Y after it
		// arrives after it too (one channel), so once carol's socket has the
		// message, what C hears from then on is what the test makes.
		waitMetric(t, c, publishedMetric, 1)
		barrier := carol.Send(t, y, "barrier", "y0").GetSeq()
		onC.Messages(y, barrier, waitFor)
		heardByC := c.Metric(t, receivedMetric)
		before := map[string]float64{"A": a.Metric(t, receivedMetric), "B": b.Metric(t, receivedMetric)}

		const burst = 20
		var last int64
		for i := range burst {
			last = alice.Send(t, x, fmt.Sprintf("x%d", i), fmt.Sprintf("x%d", i)).GetSeq()
		}
		for name, ws := range map[string]*testenv.WS{"alice on A": onA, "bob on B": onB} {
			if seqs := ws.Messages(x, last, waitFor); len(seqs) != burst {
				t.Fatalf("%s got seqs %v of room X, want %d messages once each", name, seqs, burst)
			}
		}
		for name, srv := range map[string]*testenv.Server{"A": a, "B": b} {
			if got := srv.Metric(t, receivedMetric) - before[name]; got < burst {
				t.Fatalf("%s received %v bus messages during the burst, want at least %d", name, got, burst)
			}
		}
		ySeq := carol.Send(t, y, "in y", "y1").GetSeq()
		onC.Messages(y, ySeq, waitFor)
		if got := c.Metric(t, receivedMetric) - heardByC; got != 1 {
			t.Fatalf("C, with no member of room X, received %v bus messages; want 1 (room Y's message), none of X's %d", got, burst)
		}

		// dave is in no room, so his socket on B is his only trace.
		daveOnB, _ := testenv.DialWS(t, b.URL, dave.Token)
		waitMetric(t, b, topicsMetric, 4)
		heardByA, heardByC := a.Metric(t, receivedMetric), c.Metric(t, receivedMetric)
		daveOnA := testenv.NewClient(a, testenv.Protocols[0])
		daveOnA.Token = dave.Token
		if _, err := daveOnA.Auth.Logout(context.Background(), &chatv1.LogoutRequest{}); err != nil {
			t.Fatalf("logout: %v", err)
		}
		if code := closedWith(t, daveOnB); code != "unauthenticated" {
			t.Fatalf("dave's socket on B ended with %q, want unauthenticated (session ended)", code)
		}
		if got := a.Metric(t, receivedMetric) - heardByA; got != 0 {
			t.Fatalf("A, holding none of dave's connections, received %v bus messages for his logout", got)
		}
		if got := c.Metric(t, receivedMetric) - heardByC; got != 0 {
			t.Fatalf("C received %v bus messages for dave's logout", got)
		}
	})
}

func createRoom(t *testing.T, c *testenv.Client, name string) int64 {
	t.Helper()
	res, err := c.Rooms.CreateRoom(context.Background(), &chatv1.CreateRoomRequest{Name: name})
	if err != nil {
		t.Fatalf("create room %s: %v", name, err)
	}
	return res.GetRoom().GetId()
}

// waitMetric waits until the server's metric reaches at least want.
// awaitListings reads ws until the directory listed each room with the
// member count wanted.
func awaitListings(t *testing.T, ws *testenv.WS, want map[int64]int64) {
	t.Helper()
	for len(want) > 0 {
		r := ws.Next(waitFor).GetEvent().GetRoomListed().GetRoom()
		if n, ok := want[r.GetId()]; ok && r.GetMemberCount() == n {
			delete(want, r.GetId())
		}
	}
}

func waitMetric(t *testing.T, srv *testenv.Server, name string, want float64) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%s reaches %v", name, want), func() bool { return srv.Metric(t, name) >= want })
}

// closedWith reads frames until the server ends the socket and returns the
// code of its error frame ("" when it closed without one).
func closedWith(t *testing.T, ws *testenv.WS) string {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		f, err := ws.TryNext(time.Until(deadline))
		if err != nil {
			return ""
		}
		if e := f.GetError(); e != nil {
			return e.GetCode()
		}
	}
	t.Fatal("the socket stayed open")
	return ""
}
