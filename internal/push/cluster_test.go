package push_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/testenv"
)

// offlineWithin is the promise for users of a crashed process or a peer
// that vanished without closing.
const offlineWithin = 60 * time.Second

// TestTwoProcesses: two chatd processes share MySQL and Redis, once on one
// Redis and once on a three-master Redis Cluster. A message sent through A
// reaches a socket on B and back; presence and the per-user connection cap
// count both processes; after kill -9 of B its users go offline within a
// minute.
func TestTwoProcesses(t *testing.T) {
	t.Parallel() // mostly waits for the sweep; overlaps TestVanishedPeer
	testenv.EachRedisEnv(t, func(tb testing.TB) testenv.Env {
		return pushEnv(tb, map[string]string{"PARLEY_MAX_CONNS_PER_USER": "2"})
	}, func(t *testing.T, env testenv.Env) {
		t.Parallel()
		a := testenv.StartProcess(t, env)
		b := testenv.StartProcess(t, env)

		alice := member(t, a, "alice")
		bobOnB := testenv.NewClient(b, rpcProto)
		bobOnB.Signup(t, "bob")
		bobOnB.Join(t, testenv.General)
		bobID := userID(t, bobOnB)

		la, _ := openWS(t, a, alice)
		la.send(t, `{"ping":{}}`)
		lb, _ := openWS(t, b, bobOnB)
		lb.send(t, `{"ping":{}}`)
		// Presence: A's socket is told that bob came online on B.
		la.waitEvent(t, "bob online", isPresence(bobID, true))

		// Messages cross processes both ways.
		sent := alice.Send(t, testenv.General, "from A", "a1")
		for _, l := range []*live{lb, la} {
			if got := l.message(t, testenv.General); got.GetSeq() != sent.GetSeq() {
				t.Fatalf("%s's socket got seq %d, want %d", l.name, got.GetSeq(), sent.GetSeq())
			}
		}
		sent = bobOnB.Send(t, testenv.General, "from B", "b1")
		if got := la.message(t, testenv.General); got.GetSeq() != sent.GetSeq() {
			t.Fatalf("A's socket got seq %d, want %d", got.GetSeq(), sent.GetSeq())
		}

		// A's API sees bob's socket on B.
		if !online(t, alice, testenv.General, bobID) {
			t.Fatal("A's ListMembers says bob (connected to B) is offline")
		}

		// The cap of 2 counts the socket on B: one more on A fits, a third not.
		bobOnA := testenv.NewClient(a, rpcProto)
		bobOnA.Token = bobOnB.Token
		second, _ := openWS(t, a, bobOnA)
		conn, resp, err := dialWS(t, a, "", bearer(bobOnB.Token))
		if err != nil {
			t.Fatalf("third connection: dial failed with HTTP %d: %v", resp.StatusCode, err)
		}
		third := readWS("third", conn)
		if e := third.ended(t, waitFor); e.GetCode() != "resource_exhausted" {
			t.Fatalf("third connection of bob across processes: got error %v, want resource_exhausted", e)
		}
		second.ws.Close()

		// kill -9 of B: nothing closes bob's socket cleanly; the survivors
		// must notice through the expiry of B's presence entries.
		time.Sleep(presenceGraceAndMargin) // let the closed second socket settle first
		if err := b.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		_ = b.Wait()
		for {
			f := la.next(t, time.Until(killed.Add(offlineWithin)))
			if f == nil {
				t.Fatalf("A's socket ended: %v", la.err)
			}
			if ev := f.GetEvent(); ev != nil && isPresence(bobID, false)(ev) {
				break
			}
			if ev := f.GetEvent(); ev != nil && isPresence(bobID, true)(ev) {
				t.Fatalf("bob went online again after B was killed: %v", ev)
			}
		}
		t.Logf("bob went offline %s after kill -9 of his process (TTL %s, sweep every %s)",
			time.Since(killed).Round(100*time.Millisecond), presence.TTL, presence.SweepEvery)
		if online(t, alice, testenv.General, bobID) {
			t.Fatal("ListMembers still says bob is online")
		}
	})
}

// presenceGraceAndMargin outlasts the hub's offline debounce.
const presenceGraceAndMargin = 2500 * time.Millisecond

// TestVanishedPeer: a client whose network vanishes (no close, no pong)
// goes offline within a minute.
func TestVanishedPeer(t *testing.T) {
	t.Parallel() // mostly waits for the read deadline; overlaps TestTwoProcesses
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	bobID := userID(t, bob)
	la, _ := openWS(t, srv, alice)
	la.send(t, `{"ping":{}}`)

	// bob's socket is never read again, so the server's pings go unanswered.
	conn, resp, err := dialWS(t, srv, "", bearer(bob.Token))
	if err != nil {
		t.Fatalf("dial: %v (HTTP %d)", err, resp.StatusCode)
	}
	la.waitEvent(t, "bob online", isPresence(bobID, true))
	vanished := time.Now()
	la.waitEventWithin(t, offlineWithin, "bob offline", isPresence(bobID, false))
	t.Logf("a silent peer went offline after %s", time.Since(vanished).Round(100*time.Millisecond))
	_ = conn
}
