package push_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/ws"
)

// benchRoom is the one room of the fan-out benchmarks.
const benchRoom = 1

// benchEvent is a typical message event: a 64-byte body from a user with a
// display name.
func benchEvent(seq int64) chat.Event {
	return chat.Event{Kind: chat.MessageCreated, RoomID: benchRoom, Message: &chat.Message{
		ID: seq, RoomID: benchRoom, Seq: seq, Body: strings.Repeat("x", 64), ClientMsgID: fmt.Sprintf("c%d", seq),
		Sender:    chat.User{ID: 7, Username: "alice", DisplayName: "Alice"},
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}}
}

// BenchmarkEventEncoding is the cost of turning one event into what goes on
// the wire: the WebSocket JSON frame (what the hub encodes once per event,
// shared by every connection) and the protobuf bytes (Redis bus, Subscribe).
func BenchmarkEventEncoding(b *testing.B) {
	ev := protoconv.Event(benchEvent(42))
	b.Run("WebSocketJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := protojson.Marshal(&chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Event{Event: ev}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Protobuf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := proto.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ProtobufDecode", func(b *testing.B) {
		data, _ := proto.Marshal(ev)
		b.ReportAllocs()
		for b.Loop() {
			var e chatv1.Event
			if err := proto.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFanout dispatches message events to K WebSocket clients of one
// room on a local hub (no Redis, no MySQL) and waits until every client has
// read every event; an op is one event, so deliveries/s = K × ops/s. The
// clients run in the same process and share its CPU.
func BenchmarkFanout(b *testing.B) {
	for _, k := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("conns=%d", k), func(b *testing.B) { benchFanout(b, k) })
	}
}

// window is how many events go out before the benchmark waits for the
// clients to catch up, so queues stay far from full.
const window = 256

func benchFanout(b *testing.B, k int) {
	hub := push.NewHub(fakeChat{}, fakeHistory{}, fakePresence{}, fakeTopics{}, push.Options{QueueSize: 4 * window, ResumeWindow: 1000},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	validator, err := protovalidate.New()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(ws.New(ws.Config{
		Feeds: hub, Auth: fakeAuth{}, Typing: fakeChat{}, Validate: func(m proto.Message) error { return validator.Validate(m) },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}))
	b.Cleanup(srv.Close)

	var received atomic.Int64
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, k)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), http.Header{"Authorization": {"Bearer x"}})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil { // Ready
			b.Fatal(err)
		}
		conns[i] = c
		wg.Add(1)
		go countMessages(c, &wg, &received)
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	})
	waitFor := func(n int64) {
		deadline := time.Now().Add(30 * time.Second)
		for received.Load() < n {
			if time.Now().After(deadline) {
				b.Fatalf("clients received %d of %d events", received.Load(), n)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	// Seqs must follow the hub's last one, which persists across b.N rounds.
	seq := int64(1)
	hub.Dispatch(benchEvent(seq))
	waitFor(int64(k))
	received.Store(0)
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		n := min(window, b.N-sent)
		for range n {
			seq++
			hub.Dispatch(benchEvent(seq))
		}
		sent += n
		waitFor(int64(sent) * int64(k))
	}
	b.ReportMetric(float64(sent*k)/b.Elapsed().Seconds(), "deliveries/s")
}

type fakeChat struct{}

func (fakeChat) User(_ context.Context, id int64) (chat.User, error) {
	return chat.User{ID: id, Username: "bench"}, nil
}
func (fakeChat) RoomIDsOf(context.Context, int64) ([]int64, error) { return []int64{benchRoom}, nil }
func (fakeChat) CanRead(context.Context, int64, int64) error       { return nil }
func (fakeChat) Typing(context.Context, int64, int64) error        { return nil }

type fakeHistory struct{}

func (fakeHistory) Entries(context.Context, int64, int64, int64) ([]chat.Event, error) {
	return nil, nil
}
func (fakeHistory) LastSeqs(_ context.Context, rooms []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	for _, r := range rooms {
		out[r] = 0
	}
	return out, nil
}

type fakeTopics struct{}

func (fakeTopics) Watch(chat.Topic)                          {}
func (fakeTopics) Unwatch(chat.Topic)                        {}
func (fakeTopics) Await(context.Context, []chat.Topic) error { return nil }

type fakePresence struct{}

func (fakePresence) Open(context.Context, int64, string) error { return nil }
func (fakePresence) Close(int64, string)                       {}

var userSeq atomic.Int64

type fakeAuth struct{}

func (fakeAuth) Authenticate(context.Context, string) (auth.Principal, error) {
	id := userSeq.Add(1)
	return auth.Principal{UserID: id, SessionID: fmt.Sprint("s", id)}, nil
}
