package push_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestConnCapAtOnce: 200 sockets of one user opened at the same moment,
// half on each of two servers sharing Redis: exactly the cap (default 20)
// get ready, every other one an error frame with resource_exhausted. A
// Subscribe stream over the cap is refused with the same code.
func TestConnCapAtOnce(t *testing.T) {
	const (
		sockets = 200
		limit   = 20 // PARLEY_MAX_CONNS_PER_USER's default
	)
	env := pushEnv(t, nil)
	servers := []*testenv.Server{testenv.Start(t, env), testenv.Start(t, env)}
	alice := member(t, servers[0], "alice")

	type outcome struct {
		ready bool
		err   *chatv1.Error
	}
	outcomes := make([]outcome, sockets)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range outcomes {
		srv := servers[i%len(servers)]
		wg.Go(func() {
			<-start
			// Not dialWS and live: they fail the test, which only its own
			// goroutine may do.
			d := websocket.Dialer{HandshakeTimeout: waitFor}
			conn, _, err := d.Dial(wsURL(srv, ""), bearer(alice.Token))
			if err != nil {
				t.Errorf("socket %d: %v", i, err)
				return
			}
			t.Cleanup(func() { conn.Close() })
			_ = conn.SetReadDeadline(time.Now().Add(waitFor))
			_, data, err := conn.ReadMessage()
			var first chatv1.ServerFrame
			if err == nil {
				err = protojson.Unmarshal(data, &first)
			}
			if err != nil {
				t.Errorf("socket %d: first frame: %v", i, err)
				return
			}
			outcomes[i] = outcome{ready: first.GetReady() != nil, err: first.GetError()}
		})
	}
	close(start)
	wg.Wait()

	ready := 0
	for i, o := range outcomes {
		switch {
		case o.ready:
			ready++
		case o.err.GetCode() != "resource_exhausted":
			t.Errorf("socket %d: got %v, want ready or a resource_exhausted error", i, o.err)
		}
	}
	if ready != limit {
		t.Fatalf("%d of %d sockets opened at once got ready, want exactly the cap of %d", ready, sockets, limit)
	}

	for _, p := range testenv.Protocols {
		sc := testenv.NewClient(servers[1], p)
		sc.Token = alice.Token
		stream, err := sc.Messages.Subscribe(context.Background(), &chatv1.SubscribeRequest{})
		if err == nil {
			for stream.Receive() {
				t.Fatalf("%s: stream over the cap got %v", p.Name, stream.Msg())
			}
			err = stream.Err()
			stream.Close()
		}
		if connect.CodeOf(err) != connect.CodeResourceExhausted {
			t.Errorf("%s: Subscribe over the cap: got %v, want resource_exhausted", p.Name, err)
		}
	}
}
