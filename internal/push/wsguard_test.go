package push_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/testenv"
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
			// A sentence for people: no socket address, no read error.
			for _, leak := range []string{"127.0.0.1", "[::1]", "tcp", "timeout"} {
				if strings.Contains(e.GetMessage(), leak) {
					t.Errorf("error message %q contains %q", e.GetMessage(), leak)
				}
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

// TestWSOrigin: a browser page of another origin may not open a socket,
// nor a page of this host under the other scheme, unless allowlisted.
// Behind a trusted proxy, its X-Forwarded-Proto is the scheme the client
// used; from anyone else the header is ignored.
func TestWSOrigin(t *testing.T) {
	srv := startServer(t, nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	allowing := startServer(t, map[string]string{"PARLEY_ALLOWED_ORIGINS": "https://" + host})
	proxied := startServer(t, map[string]string{"PARLEY_TRUSTED_PROXIES": "127.0.0.0/8,::1/128"})
	proxiedHost := strings.TrimPrefix(proxied.URL, "http://")
	alice := member(t, srv, "alice")
	bob := member(t, allowing, "bob")
	carol := member(t, proxied, "carol")
	tests := []struct {
		name   string
		srv    *testenv.Server
		token  string
		origin string
		proto  string // X-Forwarded-Proto
		ok     bool
	}{
		{name: "SameOrigin", srv: srv, token: alice.Token, origin: srv.URL, ok: true},
		{name: "ErrForeign", srv: srv, token: alice.Token, origin: "https://evil.example"},
		{name: "ErrOtherScheme", srv: srv, token: alice.Token, origin: "https://" + host},
		{name: "ErrUntrustedForwardedProto", srv: srv, token: alice.Token, origin: "https://" + host, proto: "https"},
		{name: "OtherSchemeAllowlisted", srv: allowing, token: bob.Token, origin: "https://" + host, ok: true},
		{name: "ProxiedHTTPS", srv: proxied, token: carol.Token, origin: "https://" + proxiedHost, proto: "https", ok: true},
		{name: "ErrProxiedHTTPSFromHTTPPage", srv: proxied, token: carol.Token, origin: "http://" + proxiedHost, proto: "https"},
		{name: "ProxiedHTTP", srv: proxied, token: carol.Token, origin: "http://" + proxiedHost, proto: "http", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := bearer(tt.token)
			h.Set("Origin", tt.origin)
			if tt.proto != "" {
				h.Set("X-Forwarded-Proto", tt.proto)
			}
			_, resp, err := dialWS(t, tt.srv, "", h)
			switch {
			case tt.ok && err != nil:
				t.Fatalf("Origin %s: got HTTP %d (%v), want 101", tt.origin, resp.StatusCode, err)
			case !tt.ok && (err == nil || resp.StatusCode != http.StatusForbidden):
				t.Fatalf("Origin %s: got HTTP %d (%v), want 403", tt.origin, resp.StatusCode, err)
			}
		})
	}
}

// TestWSInvalidUTF8: a text frame that is not UTF-8 fails the connection
// as RFC 6455 says, with close code 1007 and a reason, after an error
// frame that says why; before authentication too.
func TestWSInvalidUTF8(t *testing.T) {
	srv := startServer(t, nil)
	alice := member(t, srv, "alice")
	bad := "{\"typing\":{\"roomId\":\"\xff\xfe\"}}"
	open := map[string]func(t *testing.T) *live{
		"Authenticated": func(t *testing.T) *live {
			l, _ := openWS(t, srv, alice)
			return l
		},
		"BeforeAuth": func(t *testing.T) *live {
			conn, _, err := dialWS(t, srv, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			return readWS("before auth", conn)
		},
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			l := open(t)
			l.send(t, bad)
			e := l.ended(t, waitFor)
			if e.GetCode() != "invalid_argument" || !strings.Contains(e.GetMessage(), "UTF-8") {
				t.Errorf("got error %v, want invalid_argument about UTF-8", e)
			}
			var ce *websocket.CloseError
			if !errors.As(l.err, &ce) || ce.Code != websocket.CloseInvalidFramePayloadData || ce.Text == "" {
				t.Fatalf("connection ended with %v, want close 1007 with a reason", l.err)
			}
		})
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
