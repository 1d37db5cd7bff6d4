package push_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
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

// Bounds of TestLiveAtOnce.
const (
	// liveSockets is how many fresh sockets it measures.
	liveSockets = 200
	// liveSendEvery paces the messages they wait for.
	liveSendEvery = 5 * time.Millisecond
	// liveWithin is the promise for the first live event after Ready, at
	// the 99th percentile.
	liveWithin = 50 * time.Millisecond
)

// TestLiveAtOnce: a socket that sends nothing after Ready gets live events
// at once, with no wait for a resume it might send: while messages arrive
// every few milliseconds, the first live one reaches a fresh socket within
// 50 ms of its Ready at the 99th percentile.
func TestLiveAtOnce(t *testing.T) {
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	stop := make(chan struct{})
	sent := make(chan error, 1)
	go func() {
		tick := time.NewTicker(liveSendEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				sent <- nil
				return
			case <-tick.C:
			}
			if _, err := alice.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{
				RoomId: testenv.General, Body: fmt.Sprintf("tick %d", i), ClientMsgId: fmt.Sprintf("tick-%d", i),
			}); err != nil {
				sent <- err
				return
			}
		}
	}()
	lat := make([]time.Duration, 0, liveSockets)
	for range liveSockets {
		l, ready := openWS(t, srv, bob)
		start := time.Now()
		after := ready.GetCursors()[0].GetAfterSeq()
		l.waitEvent(t, "a live message", func(ev *chatv1.Event) bool {
			return ev.GetRoomId() == testenv.General && ev.GetMessageCreated() != nil && ev.GetSeq() > after
		})
		lat = append(lat, time.Since(start))
		l.ws.Close()
	}
	close(stop)
	if err := <-sent; err != nil {
		t.Fatalf("sending: %v", err)
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("first live message after Ready, %d fresh sockets, a message every %s: p50 %s, p99 %s, max %s",
		liveSockets, liveSendEvery, p50, p99, lat[len(lat)-1])
	if p99 > liveWithin {
		t.Errorf("first live message after Ready took %s at p99; want under %s", p99, liveWithin)
	}
}
