package push_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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

// TestSubprotocolPreference: offered several, the server takes the first
// of its own order, whatever order the client lists them in.
func TestSubprotocolPreference(t *testing.T) {
	srv := startServer(t, nil)
	bob := member(t, srv, "bob")
	conn, _, err := dialWSAs(t, srv, "", bearer(bob.Token), "parley.v1.json", "parley.v1.proto", "parley.v1.batch.proto")
	if err != nil {
		t.Fatal(err)
	}
	if conn.Subprotocol() != "parley.v1.batch.proto" {
		t.Fatalf("offered json, proto and batch.proto, the server chose %q; want parley.v1.batch.proto", conn.Subprotocol())
	}
	readWS("ws", conn).ready(t)
}

// TestBatchSizeBound: a replay larger than a batch holds (40 messages of
// 2 KB) comes in several messages of about 32 KiB each at most: a batch
// is written once it passes 32 KiB, so no message exceeds that by more
// than its last frame.
func TestBatchSizeBound(t *testing.T) {
	const bound, frameAtMost = 32 << 10, 4 << 10
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	base := lastSeq(t, bob, testenv.General)
	if err := sendPadded(alice, testenv.General, 40, 1, "big", strings.Repeat("x", 2000)); err != nil {
		t.Fatal(err)
	}
	conn, _, err := dialWSAs(t, srv, "", bearer(bob.Token), "parley.v1.batch.json")
	if err != nil {
		t.Fatal(err)
	}
	resume := fmt.Sprintf(`{"resume":{"rooms":[{"roomId":"%d","afterSeq":"%d"}]}}`, testenv.General, base)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(resume)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(waitFor))
	got, messages := 0, 0
	for got < 40 {
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("after %d of 40 messages: %v", got, err)
		}
		if len(data) > bound+frameAtMost {
			t.Fatalf("a batch of %d bytes; want at most %d plus one frame", len(data), bound)
		}
		frames, err := decodeServerMessage(false, true, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			if f.GetEvent().GetMessageCreated() != nil {
				got++
			}
		}
		messages++
	}
	if messages < 3 {
		t.Errorf("80 KB of replay came in %d messages; a batch holds about 32 KiB", messages)
	}
}
