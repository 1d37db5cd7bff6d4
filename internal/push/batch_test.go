package push_test

import (
	"fmt"
	"testing"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// subprotocols are what a WebSocket client may ask for; "" is none.
var subprotocols = []string{"", "parley.v1.json", "parley.v1.proto", "parley.v1.batch.json", "parley.v1.batch.proto"}

// TestSubprotocols: on every subprotocol a client resuming after 40
// messages gets them in order, then live ones; on a batch subprotocol the
// replay comes in a message or two instead of one per event.
func TestSubprotocols(t *testing.T) {
	srv := startServer(t, nil)
	alice := member(t, srv, "alice")
	for i, sp := range subprotocols {
		t.Run("subprotocol="+sp, func(t *testing.T) {
			bob := member(t, srv, fmt.Sprintf("bob%d", i))
			base := lastSeq(t, bob, testenv.General)
			const n = 40
			if err := sendAll(alice, testenv.General, n, 1, "batch-"+sp); err != nil {
				t.Fatal(err)
			}
			l, _ := openWSResumingAs(t, srv, bob, sp, &chatv1.RoomCursor{RoomId: testenv.General, AfterSeq: base})
			wantSeqs(t, l.messagesUpTo(t, testenv.General, base+n, waitFor), base+1, base+n)
			replayed := l.messages.Load()
			batch := sp == "parley.v1.batch.json" || sp == "parley.v1.batch.proto"
			if batch && replayed > 4 {
				t.Errorf("the Ready and a replay of %d messages came in %d WebSocket messages; want at most 4", n, replayed)
			}
			if !batch && replayed < n+1 {
				t.Errorf("the Ready and a replay of %d messages came in %d WebSocket messages; want one each", n, replayed)
			}
			if err := sendAll(alice, testenv.General, 1, 1, "live-"+sp); err != nil {
				t.Fatal(err)
			}
			wantSeqs(t, l.messagesUpTo(t, testenv.General, base+n+1, waitFor), base+n+1, base+n+1)
		})
	}
}

// TestUnknownSubprotocol: a client that asks only for subprotocols the
// server does not know gets none, and JSON frames as clients always have.
func TestUnknownSubprotocol(t *testing.T) {
	srv := startServer(t, nil)
	bob := member(t, srv, "bob")
	conn, _, err := dialWSAs(t, srv, "", bearer(bob.Token), "parley.v9.future")
	if err != nil {
		t.Fatal(err)
	}
	if conn.Subprotocol() != "" {
		t.Fatalf("server chose %q for a client that asked only for parley.v9.future", conn.Subprotocol())
	}
	readWS("ws", conn).ready(t)
}
