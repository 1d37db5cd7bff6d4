package push_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestWSAuth: only a valid token in the Authorization header or in the
// first auth frame opens a socket; a token in the URL does not.
func TestWSAuth(t *testing.T) {
	srv := startServer(t, nil)
	alice := member(t, srv, "alice")
	tests := []struct {
		name   string
		query  string
		header http.Header
		first  string // the first frame, if any
	}{
		{name: "ErrBadAuthFrame", first: `{"auth":{"token":"not-a-token"}}`},
		{name: "ErrMissingAuthFrame", first: `{"ping":{}}`},
		{name: "ErrTokenInURL", query: "access_token=" + alice.Token + "&token=" + alice.Token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, resp, err := dialWS(t, srv, tt.query, tt.header)
			if err != nil {
				t.Fatalf("upgrade refused with HTTP %d: %v", resp.StatusCode, err)
			}
			l := readWS(tt.name, conn)
			if tt.first != "" {
				l.send(t, tt.first)
			}
			// Without a frame the server waits its 5 s auth timeout.
			e := l.ended(t, waitFor)
			if e.GetCode() != "unauthenticated" {
				t.Fatalf("got error %v, want unauthenticated", e)
			}
			if code := l.closeCode(); code != websocket.ClosePolicyViolation {
				t.Errorf("close code %d, want %d", code, websocket.ClosePolicyViolation)
			}
		})
	}
	t.Run("ErrBadBearer", func(t *testing.T) {
		_, resp, err := dialWS(t, srv, "", bearer("not-a-token"))
		if err == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got HTTP %d (%v), want 401", resp.StatusCode, err)
		}
	})
	t.Run("AuthFrame", func(t *testing.T) {
		conn, _, err := dialWS(t, srv, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		l := readWS("auth frame", conn)
		l.send(t, `{"auth":{"token":"`+alice.Token+`"}}`)
		if ready := l.ready(t); ready.GetUser().GetId() != userID(t, alice) {
			t.Fatalf("ready for user %d", ready.GetUser().GetId())
		}
	})
}

// TestWSOrigin: a browser page of another origin may not open a socket.
func TestWSOrigin(t *testing.T) {
	srv := startServer(t, nil)
	alice := member(t, srv, "alice")
	h := bearer(alice.Token)
	h.Set("Origin", "https://evil.example")
	if _, resp, err := dialWS(t, srv, "", h); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: got HTTP %d (%v), want 403", resp.StatusCode, err)
	}
	h.Set("Origin", srv.URL)
	if _, resp, err := dialWS(t, srv, "", h); err != nil {
		t.Fatalf("same origin: got HTTP %d (%v), want 101", resp.StatusCode, err)
	}
}

// TestWSFrames: oversized frames close the connection, malformed ones are
// answered with an error and the connection goes on, and a flood hits the
// frame rate limit.
func TestWSFrames(t *testing.T) {
	srv := startServer(t, nil)
	alice := member(t, srv, "alice")

	t.Run("ErrOversized", func(t *testing.T) {
		l, _ := openWS(t, srv, alice)
		l.send(t, `{"ping":{}}`+strings.Repeat(" ", 64<<10))
		l.ended(t, waitFor)
		if code := l.closeCode(); code != websocket.CloseMessageTooBig {
			t.Logf("closed with %v (no 1009 close frame)", l.err)
		}
	})
	t.Run("ErrOversizedBeforeAuth", func(t *testing.T) {
		conn, _, err := dialWS(t, srv, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		l := readWS("before auth", conn)
		l.send(t, `{"auth":{"token":"`+strings.Repeat("x", 64<<10)+`"}}`)
		l.ended(t, waitFor)
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		l, _ := openWS(t, srv, alice)
		for _, bad := range []string{`{not json`, `{}`, `{"resume":{"rooms":[{"roomId":"0"}]}}`, `{"typing":{"roomId":"-1"}}`} {
			l.send(t, bad)
			f := l.next(t, waitFor)
			if f.GetError().GetCode() != "invalid_argument" {
				t.Fatalf("%s: got %v, want an invalid_argument error", bad, f)
			}
		}
		l.send(t, `{"ping":{}}`)
		if f := l.next(t, waitFor); f.GetPong() == nil {
			t.Fatalf("after malformed frames got %v, want pong", f)
		}
	})
	t.Run("ErrFlood", func(t *testing.T) {
		l, _ := openWS(t, srv, alice)
		for range 200 {
			if err := l.ws.WriteMessage(websocket.TextMessage, []byte(`{"ping":{}}`)); err != nil {
				break // already cut off
			}
		}
		if e := l.ended(t, waitFor); e.GetCode() != "resource_exhausted" {
			t.Fatalf("got error %v, want resource_exhausted", e)
		}
	})
}
