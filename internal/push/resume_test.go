package push_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// burstWait bounds a 1,000-message burst and its delivery under -race.
const burstWait = 60 * time.Second

// resumeFrame is the WebSocket resume of one room.
func resumeFrame(room, after int64) string {
	return fmt.Sprintf(`{"resume":{"rooms":[{"roomId":"%d","afterSeq":"%d"}]}}`, room, after)
}

// reopen reconnects c after it saw up to seq after in General, over a
// WebSocket (cursor in the auth frame; "ws_batch" asks for batches of
// protobuf frames) or a Subscribe stream (cursor in the request).
func reopen(tb testing.TB, srv *testenv.Server, c *testenv.Client, over string, after int64) *live {
	tb.Helper()
	switch over {
	case "ws":
		l, _ := openWSResuming(tb, srv, c, &chatv1.RoomCursor{RoomId: testenv.General, AfterSeq: after})
		return l
	case "ws_batch":
		l, _ := openWSResumingAs(tb, srv, c, "parley.v1.batch.proto", &chatv1.RoomCursor{RoomId: testenv.General, AfterSeq: after})
		return l
	}
	for _, p := range testenv.Protocols {
		if p.Name == over {
			l, _ := subscribe(tb, srv, c, p, &chatv1.RoomCursor{RoomId: testenv.General, AfterSeq: after})
			return l
		}
	}
	tb.Fatalf("unknown transport %q", over)
	return nil
}

// TestResumeAfterDrop: a connection dropped in the middle of a 1,000-message
// burst resumes from the last seq it saw and gets exactly the missed
// messages, in order, while the burst goes on.
func TestResumeAfterDrop(t *testing.T) {
	srv := startServer(t, nil)
	for _, over := range []string{"ws", "ws_batch", "connect"} {
		t.Run(over, func(t *testing.T) {
			alice, bob := member(t, srv, "alice_"+over), member(t, srv, "bob_"+over)
			base := lastSeq(t, bob, testenv.General)
			first, _ := openWS(t, srv, bob)

			const n = 1000
			sent := make(chan error, 1)
			go func() { sent <- sendAll(alice, testenv.General, n, 4, "burst-"+over) }()

			seen := first.messagesUpTo(t, testenv.General, base+n/4, burstWait)
			wantSeqs(t, seen, base+1, base+n/4)
			// Drop without a close handshake, like a lost network.
			first.ws.UnderlyingConn().Close()
			after := seen[len(seen)-1]

			second := reopen(t, srv, bob, over, after)
			if err := <-sent; err != nil {
				t.Fatalf("burst: %v", err)
			}
			last := lastSeq(t, bob, testenv.General)
			if last != base+n {
				t.Fatalf("room's last seq %d, want %d", last, base+n)
			}
			wantSeqs(t, second.messagesUpTo(t, testenv.General, last, burstWait), after+1, last)
			second.noEvent(t, quiet, "a message after the last one (duplicate)", func(ev *chatv1.Event) bool { return ev.GetMessageCreated() != nil })
		})
	}
}

// TestResumeCatchUpRace: messages keep arriving while a resume replays from
// the store; the client sees every seq exactly once, in order.
func TestResumeCatchUpRace(t *testing.T) {
	srv := startServer(t, nil)
	for _, over := range []string{"ws", "connect", "grpc"} {
		t.Run(over, func(t *testing.T) {
			alice, bob := member(t, srv, "alice_"+over), member(t, srv, "bob_"+over)
			base := lastSeq(t, bob, testenv.General)
			const missed, during = 600, 300 // within the resume window of 1,000
			if err := sendAll(alice, testenv.General, missed, 4, "before-"+over); err != nil {
				t.Fatal(err)
			}

			sent := make(chan error, 1)
			go func() { sent <- sendAll(alice, testenv.General, during, 2, "during-"+over) }()
			// Let live traffic flow before and during the replay.
			time.Sleep(20 * time.Millisecond)
			l := reopen(t, srv, bob, over, base)
			if err := <-sent; err != nil {
				t.Fatalf("live traffic: %v", err)
			}
			last := lastSeq(t, bob, testenv.General)
			wantSeqs(t, l.messagesUpTo(t, testenv.General, last, burstWait), base+1, last)
			l.noEvent(t, quiet, "a message after the last one (duplicate)", func(ev *chatv1.Event) bool { return ev.GetMessageCreated() != nil })
		})
	}
}

// TestResumeTooFarBehind: a resume that misses more than the window gets an
// explicit too_far_behind for that room instead of a replay, then live
// events; exactly the window is still replayed.
func TestResumeTooFarBehind(t *testing.T) {
	const window = 50
	srv := startServer(t, map[string]string{"PARLEY_RESUME_WINDOW": strconv.Itoa(window)})
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	if err := sendAll(alice, testenv.General, 2*window, 2, "fill"); err != nil {
		t.Fatal(err)
	}
	last := lastSeq(t, bob, testenv.General)

	for _, over := range []string{"ws", "connect"} {
		t.Run(over+"/Window", func(t *testing.T) {
			l := reopen(t, srv, bob, over, last-window)
			wantSeqs(t, l.messagesUpTo(t, testenv.General, last, waitFor), last-window+1, last)
		})
		t.Run(over+"/TooFar", func(t *testing.T) {
			after := last - window - 1
			l := reopen(t, srv, bob, over, after)
			ev := l.waitEvent(t, "too_far_behind", func(ev *chatv1.Event) bool {
				if ev.GetMessageCreated() != nil {
					t.Fatalf("replayed seq %d; want too_far_behind", ev.GetSeq())
				}
				return ev.GetTooFarBehind() != nil
			})
			tf := ev.GetTooFarBehind()
			if ev.GetRoomId() != testenv.General || tf.GetRoomId() != testenv.General || tf.GetAfterSeq() != after || tf.GetLastSeq() != last {
				t.Fatalf("got %v, want too_far_behind{room %d, after %d, last %d}", ev, testenv.General, after, last)
			}
			// Live delivery of the room goes on after it.
			msg := alice.Send(t, testenv.General, "after the cut", "cut-"+over)
			if got := l.message(t, testenv.General); got.GetSeq() != msg.GetSeq() {
				t.Fatalf("after too_far_behind got seq %d, want the live %d", got.GetSeq(), msg.GetSeq())
			}
			last = msg.GetSeq()
		})
	}
}

// TestLateResume: a resume that arrives after live events already went out
// replays only the older missed messages; the live ones are not repeated.
func TestLateResume(t *testing.T) {
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	if err := sendAll(alice, testenv.General, 20, 1, "old"); err != nil {
		t.Fatal(err)
	}
	l, ready := openWS(t, srv, bob)
	start := ready.GetCursors()[0].GetAfterSeq()
	for i := range 3 {
		alice.Send(t, testenv.General, "live", fmt.Sprintf("live-%d", i))
	}
	wantSeqs(t, l.messagesUpTo(t, testenv.General, start+3, waitFor), start+1, start+3)

	l.send(t, resumeFrame(testenv.General, start-10))
	wantSeqs(t, l.messagesUpTo(t, testenv.General, start, waitFor), start-9, start)
	l.noEvent(t, quiet, "a repeated message", func(ev *chatv1.Event) bool { return ev.GetMessageCreated() != nil })
}
