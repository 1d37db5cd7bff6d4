package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeFlushEvery is how often the fake writes what it queued for a client.
const fakeFlushEvery = 2 * time.Millisecond

// fakeCentrifugo speaks as much of Centrifugo's protocol as chatbench
// uses, so that CI, which has no Centrifugo, runs -target centrifugo end
// to end. Like Centrifugo it packs what is queued for a client into one
// message, one reply or push per line, and pings each client (once, right
// after the connect reply) expecting an answer.
type fakeCentrifugo struct {
	key   string
	mu    sync.Mutex
	subs  map[string][]*fakeConn
	pongs atomic.Int64
}

type fakeConn struct {
	mu    sync.Mutex
	queue [][]byte
}

func (f *fakeConn) push(line []byte) {
	f.mu.Lock()
	f.queue = append(f.queue, line)
	f.mu.Unlock()
}

func (f *fakeConn) flush(ws *websocket.Conn) error {
	f.mu.Lock()
	msg := bytes.Join(f.queue, []byte("\n"))
	f.queue = f.queue[:0]
	f.mu.Unlock()
	if len(msg) == 0 {
		return nil
	}
	return ws.WriteMessage(websocket.TextMessage, msg)
}

// startFakeCentrifugo serves the fake and returns its base URL.
func startFakeCentrifugo(t *testing.T, key string) (*fakeCentrifugo, string) {
	t.Helper()
	f := &fakeCentrifugo{key: key, subs: map[string][]*fakeConn{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/connection/websocket", f.serveWS)
	mux.HandleFunc("/api/info", f.api(func([]byte) {}))
	mux.HandleFunc("/api/publish", f.api(f.publish))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeCentrifugo) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	c := &fakeConn{}
	done := make(chan struct{})
	defer close(done)
	go func() {
		tk := time.NewTicker(fakeFlushEvery)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				if c.flush(ws) != nil {
					return
				}
			}
		}
	}()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var cmd struct {
				ID        uint32
				Connect   *struct{}
				Subscribe *struct{ Channel string }
			}
			if json.Unmarshal(line, &cmd) != nil {
				return
			}
			switch {
			case cmd.Connect != nil:
				c.push([]byte(`{"id":` + itoaU(cmd.ID) + `,"connect":{"client":"fake","version":"fake","ping":25,"pong":true}}`))
				c.push([]byte(`{}`))
			case cmd.Subscribe != nil:
				f.mu.Lock()
				f.subs[cmd.Subscribe.Channel] = append(f.subs[cmd.Subscribe.Channel], c)
				f.mu.Unlock()
				c.push([]byte(`{"id":` + itoaU(cmd.ID) + `,"subscribe":{}}`))
			default: // {} answers the ping
				f.pongs.Add(1)
			}
		}
	}
}

func itoaU(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// api checks the key, hands the body to do and answers an empty result.
func (f *fakeCentrifugo) api(do func([]byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-API-Key") != f.key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		do(body)
		_, _ = w.Write([]byte(`{"result":{}}`))
	}
}

func (f *fakeCentrifugo) publish(body []byte) {
	var req struct {
		Channel string
		Data    json.RawMessage
	}
	if json.Unmarshal(body, &req) != nil {
		return
	}
	channel, _ := json.Marshal(req.Channel)
	line := []byte(`{"push":{"channel":` + string(channel) + `,"pub":{"data":` + string(req.Data) + `}}}`)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.subs[req.Channel] {
		c.push(line)
	}
}

// TestCentrifugoTargetAgainstFake: the whole -target centrifugo run —
// connect, subscribe, pings, publishes over the HTTP API, packed pushes —
// counts every delivery once, members of every room included.
func TestCentrifugoTargetAgainstFake(t *testing.T) {
	fake, addr := startFakeCentrifugo(t, defaultCentrifugoKey)
	res := benchAgainst(t, addr, "-target", "centrifugo", "-clients", "50", "-rooms", "5", "-everywhere", "2",
		"-senders", "5", "-duration", "1s")
	if res.Connect.Connected != 52 || res.Config.Target != targetCentrifugo || res.Config.Client != clientGeneric {
		t.Errorf("%d of 52 clients connected; target %q, client %q", res.Connect.Connected, res.Config.Target, res.Config.Client)
	}
	if e := res.Everywhere; e == nil || e.Expected != 2*res.Sends.Acked || e.Delivered != e.Expected {
		t.Errorf("members of every room: %+v, want %d deliveries", e, 2*res.Sends.Acked)
	}
	if res.Deliveries.Frames >= res.Deliveries.Delivered {
		t.Errorf("%d deliveries in %d messages: the fake packs several into one", res.Deliveries.Delivered, res.Deliveries.Frames)
	}
	if n := fake.pongs.Load(); n != 52 {
		t.Errorf("%d of 52 clients answered the fake's ping", n)
	}
	checkDelivered(t, res)
}

// TestCentrifugoWrongKey: a key Centrifugo refuses ends the run before it
// starts, with a sentence that says which flag to set.
func TestCentrifugoWrongKey(t *testing.T) {
	_, addr := startFakeCentrifugo(t, "another key")
	cfg, err := parseConfig([]string{"-target", "centrifugo", "-addr", addr, "-progress=false"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bench(context.Background(), cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "-centrifugo-api-key") {
		t.Errorf("bench with a wrong key: %v", err)
	}
}
