package push_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// TestLiveMessages: two users see each other's messages live, each over a
// WebSocket or a Subscribe stream of each RPC protocol.
func TestLiveMessages(t *testing.T) {
	srv := startServer(t, nil)
	open := map[string]func(tb testing.TB, c *testenv.Client) *live{
		"ws": func(tb testing.TB, c *testenv.Client) *live { l, _ := openWS(tb, srv, c); return l },
	}
	for _, p := range testenv.Protocols {
		open[p.Name] = func(tb testing.TB, c *testenv.Client) *live { l, _ := subscribe(tb, srv, c, p); return l }
	}
	for _, name := range []string{"ws", "connect", "grpc", "grpcweb"} {
		t.Run(name, func(t *testing.T) {
			alice, bob := member(t, srv, "alice_"+name), member(t, srv, "bob_"+name)
			la, lb := open[name](t, alice), open[name](t, bob)

			sent := alice.Send(t, testenv.General, "hello from alice", "a1")
			for _, l := range []*live{la, lb} {
				got := l.message(t, testenv.General)
				if got.GetSeq() != sent.GetSeq() || got.GetBody() != "hello from alice" || got.GetSender().GetUsername() != "alice_"+name {
					t.Fatalf("%s got %v, want %v", l.name, got, sent)
				}
			}
			sent = bob.Send(t, testenv.General, "hi alice", "b1")
			if got := la.message(t, testenv.General); got.GetSeq() != sent.GetSeq() || got.GetBody() != "hi alice" {
				t.Fatalf("alice got %v, want %v", got, sent)
			}
		})
	}
}

// TestSendToReceiveLatency measures, on loopback, the time from calling
// SendMessage to the event arriving on another user's WebSocket, and fails
// only when it is absurd: the figure is for the log.
func TestSendToReceiveLatency(t *testing.T) {
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	lb, _ := openWS(t, srv, bob)
	// A first frame opens live delivery at once (see wsResumeWait).
	lb.send(t, `{"ping":{}}`)
	const n = 100
	lat := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		alice.Send(t, testenv.General, fmt.Sprintf("ping %d", i), fmt.Sprintf("p%d", i))
		lb.message(t, testenv.General)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	p50, p99 := lat[n/2], lat[n*99/100]
	t.Logf("SendMessage → WebSocket event over %d messages: p50 %s, p99 %s, max %s", n, p50, p99, lat[n-1])
	if p50 > time.Second {
		t.Errorf("median send→receive latency %s; want well under a second on loopback", p50)
	}
}
