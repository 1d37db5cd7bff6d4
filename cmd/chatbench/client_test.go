package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

func TestHandleCountsGapsAndDuplicates(t *testing.T) {
	sent := time.Now().Add(-5 * time.Millisecond)
	frame := func(seq string) []byte {
		return []byte(`{"event":{"roomId": "7","seq":"` + seq + `","messageCreated":{"message":{"id":"1","roomId":"7","seq":"` + seq +
			`","sender":{"id":"2","username":"a"},"body": "` + body(60, sent, "r1", 0, 0) + `"}}}}`)
	}
	var tl tally
	c := &wsClient{last: map[int64]int64{7: 3}}
	for _, seq := range []string{"4", "5", "5", "8", "9"} {
		c.handle(&tl, frame(seq))
	}
	if got := tl.delivered.Load(); got != 4 {
		t.Errorf("delivered = %d, want 4", got)
	}
	if got := tl.duplicates.Load(); got != 1 {
		t.Errorf("duplicates = %d, want 1", got)
	}
	if got := tl.gaps.Load(); got != 2 {
		t.Errorf("gaps = %d, want 2 (seq 6 and 7)", got)
	}
	if tl.badBodies.Load() != 0 || tl.e2e.count() != 4 {
		t.Errorf("bad bodies %d, e2e samples %d", tl.badBodies.Load(), tl.e2e.count())
	}
	if p50 := tl.e2e.quantile(0.5); p50 < 4*time.Millisecond || p50 > time.Second {
		t.Errorf("e2e p50 = %v, want about 5ms", p50)
	}
}

func TestHandleOtherFrames(t *testing.T) {
	var tl tally
	c := &wsClient{last: map[int64]int64{}}
	c.handle(&tl, []byte(`{"pong":{}}`))
	c.handle(&tl, []byte(`{"event":{"roomId":"1","presenceChanged":{"roomId":"1","userId":"3","online":true}}}`))
	c.handle(&tl, []byte(`{"error":{"code":"resource_exhausted","message":"too slow"}}`))
	if tl.otherEvents.Load() != 1 || tl.wsErrors.Load() != 1 || tl.delivered.Load() != 0 {
		t.Errorf("other %d, errors %d, delivered %d", tl.otherEvents.Load(), tl.wsErrors.Load(), tl.delivered.Load())
	}
}

// TestGenericClientCountsAlike: the generic decoder reaches the same counts
// as the fast one on the same frames, including a frame whose fields come
// in another order (which a byte scan cannot read, and a JSON decoder can).
func TestGenericClientCountsAlike(t *testing.T) {
	sent := time.Now().Add(-5 * time.Millisecond)
	b := body(60, sent, "r1", 0, 0)
	frames := [][]byte{
		[]byte(`{"event":{"roomId":"7","seq":"4","messageCreated":{"message":{"id":"1","roomId":"7","seq":"4","body":"` + b + `"}}}}`),
		[]byte(`{"event":{"messageCreated":{"message":{"body":"` + b + `","seq":"5","roomId":"7"}},"seq":"5","roomId":"7"}}`),
		[]byte(`{"event":{"roomId":"7","seq":"5","messageCreated":{"message":{"body":"` + b + `"}}}}`),
		[]byte(`{"pong":{}}`),
		[]byte(`{"event":{"roomId":"1","presenceChanged":{"roomId":"1","userId":"3","online":true}}}`),
		[]byte(`{"event":{"roomId":"7","tooFarBehind":{"roomId":"7","afterSeq":"1","lastSeq":"900"}}}`),
		[]byte(`not json`),
	}
	var tl tally
	c := &wsClient{last: map[int64]int64{7: 3}, generic: true}
	for _, f := range frames {
		c.handle(&tl, f)
	}
	if tl.delivered.Load() != 2 || tl.duplicates.Load() != 1 || tl.gaps.Load() != 0 || tl.e2e.count() != 2 {
		t.Errorf("delivered %d, duplicates %d, gaps %d, e2e %d", tl.delivered.Load(), tl.duplicates.Load(), tl.gaps.Load(), tl.e2e.count())
	}
	if tl.otherEvents.Load() != 1 || tl.wsErrors.Load() != 2 || tl.badBodies.Load() != 0 {
		t.Errorf("other %d, errors %d (too far behind, undecodable), bad bodies %d", tl.otherEvents.Load(), tl.wsErrors.Load(), tl.badBodies.Load())
	}
}

// fakeReady serves /ws as a chatd that knows the subprotocols, or as one
// from before them: it writes the Ready in the form it chose, and on a
// batch protocol a message event in the same message. It records the
// subprotocols each client asked for.
func fakeReady(t *testing.T, knowsSubprotocols bool) (addr string, asked <-chan string) {
	t.Helper()
	up := websocket.Upgrader{}
	if knowsSubprotocols {
		up.Subprotocols = []string{"parley.v1.batch.proto", "parley.v1.batch.json", "parley.v1.proto", "parley.v1.json"}
	}
	askedc := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		askedc <- r.Header.Get("Sec-WebSocket-Protocol")
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		wr, err := wireOf(ws.Subprotocol())
		if err != nil {
			t.Error(err)
			return
		}
		frames := []*chatv1.ServerFrame{readyFrame(map[int64]int64{7: 3, 9: 0})}
		if wr.batch {
			frames = append(frames, messageFrame(7, 4, "t1 r1 s0 n0 x"))
		}
		kind := websocket.TextMessage
		if wr.binary {
			kind = websocket.BinaryMessage
		}
		_ = ws.WriteMessage(kind, encodeMessage(t, wr, frames...))
		_, _, _ = ws.ReadMessage() // until the client closes
	}))
	t.Cleanup(srv.Close)
	return srv.URL, askedc
}

// TestDialReadsReady: a client asks for the subprotocol of its -protocol
// (none for json), reads the Ready in whatever form the server chose, and
// keeps what followed it in the message for its read loop; against a chatd
// that knows no subprotocol every protocol falls back to json.
func TestDialReadsReady(t *testing.T) {
	for _, knows := range []bool{true, false} {
		addr, asked := fakeReady(t, knows)
		for _, protocol := range protocols {
			name := protocol
			if !knows {
				name += "/older chatd"
			}
			t.Run(name, func(t *testing.T) {
				c, err := dial(context.Background(), addr, &benchUser{Access: "token"}, protocol)
				if err != nil {
					t.Fatal(err)
				}
				defer c.close()
				wantAsked := "parley.v1." + protocol
				if protocol == "json" {
					wantAsked = ""
				}
				if got := <-asked; got != wantAsked {
					t.Errorf("asked for subprotocol %q, want %q", got, wantAsked)
				}
				inEffect := protocol
				if !knows {
					inEffect = "json"
				}
				if c.protocol() != inEffect {
					t.Errorf("protocol in effect %q, want %q", c.protocol(), inEffect)
				}
				if c.last[7] != 3 || c.last[9] != 0 || len(c.last) != 2 {
					t.Errorf("cursors %v, want room 7 after 3 and room 9 after 0", c.last)
				}
				var wantEarly []frame
				if c.wire.batch {
					wantEarly = []frame{{kind: frameMessage, room: 7, seq: 4, body: "t1 r1 s0 n0 x"}}
				}
				if !slices.Equal(c.early, wantEarly) {
					t.Errorf("frames after the Ready %+v, want %+v", c.early, wantEarly)
				}
			})
		}
	}
}
