package push_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestSlowReader: a socket that never reads is cut off with
// resource_exhausted once its small queue fills, while another reader of
// the same room gets every message promptly.
func TestSlowReader(t *testing.T) {
	srv := startServer(t, map[string]string{"PARLEY_SEND_QUEUE": "64"})
	alice, bob, carol := member(t, srv, "alice"), member(t, srv, "bob"), member(t, srv, "carol")
	base := lastSeq(t, bob, testenv.General)

	// bob's socket is not read until the end, so once the kernel buffers
	// are full the server's writes stall and its queue fills.
	d := websocket.Dialer{HandshakeTimeout: waitFor}
	slow, _, err := d.Dial(wsURL(srv, ""), bearer(bob.Token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slow.Close() })
	if err := slow.WriteMessage(websocket.TextMessage, []byte(`{"ping":{}}`)); err != nil {
		t.Fatal(err)
	}
	fast, _ := openWS(t, srv, carol)
	fast.send(t, `{"ping":{}}`)

	const n = 1500
	start := time.Now()
	if err := sendPadded(alice, testenv.General, n, 2, "big", strings.Repeat("x", 3900)); err != nil {
		t.Fatal(err)
	}
	sent := time.Since(start)
	got := fast.messagesUpTo(t, testenv.General, base+n, waitFor)
	if len(got) != n {
		t.Fatalf("the fast reader got %d messages, want %d", len(got), n)
	}
	t.Logf("%d messages of 4 KB: sent in %s, the fast reader had them all %s after the last send", n, sent.Round(time.Millisecond), (time.Since(start) - sent).Round(time.Millisecond))

	// Now read: what the kernel held, then the reason.
	l := readWS("slow", slow)
	l.ready(t)
	read := 0
	var reason *chatv1.Error
	timeout := time.After(2 * waitFor)
	for reason == nil {
		select {
		case f := <-l.frames:
			if f.GetEvent().GetMessageCreated() != nil {
				read++
			}
			reason = f.GetError()
			continue
		case <-l.done:
		case <-timeout:
			t.Fatalf("slow reader read %d messages and is still open: neither cut off nor fed", read)
		}
		break
	}
	if reason != nil && reason.GetCode() != "resource_exhausted" {
		t.Fatalf("slow reader got error %v, want resource_exhausted", reason)
	}
	if read >= n {
		t.Fatalf("slow reader got all %d messages; it was not cut off", read)
	}
	// The reason arrives when the stalled write completed before the write
	// deadline; otherwise the server just closes the socket.
	t.Logf("slow reader cut off after %d of %d messages (reason frame: %v)", read, n, reason)
}
