package push_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/testenv"
)

// BenchmarkSendRoom1000 is one SendMessage into a room with 1,000 live
// sockets (ten members with 100 each) on a real chatd, MariaDB and Redis:
// an op is the durable send and its delivery to every socket, one send
// after the other, so ns/op is a send's latency to its last reader.
func BenchmarkSendRoom1000(b *testing.B) {
	const members, perMember = 10, 100
	// Every socket comes from 127.0.0.1, so the per-address cap is raised too.
	srv := startServer(b, map[string]string{
		"PARLEY_MAX_CONNS_PER_USER": fmt.Sprint(perMember), "PARLEY_MAX_CONNS_PER_IP": fmt.Sprint(2 * members * perMember),
	})
	sender := member(b, srv, "sender")
	var received atomic.Int64
	var wg sync.WaitGroup
	// Registered first, so it runs after the sockets' own cleanups close them.
	b.Cleanup(wg.Wait)
	for m := range members {
		c := member(b, srv, fmt.Sprintf("reader%d", m))
		for range perMember {
			conn, resp, err := dialWS(b, srv, "", bearer(c.Token))
			if err != nil {
				b.Fatalf("dial: %v (HTTP %d)", err, resp.StatusCode)
			}
			wg.Add(1)
			go countMessages(conn, &wg, &received)
		}
	}
	total := int64(members * perMember)
	waitFor := func(n int64) {
		deadline := time.Now().Add(30 * time.Second)
		for received.Load() < n {
			if time.Now().After(deadline) {
				b.Fatalf("sockets received %d of %d messages", received.Load(), n)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	sender.Send(b, testenv.General, "warm-up", "warm-up")
	waitFor(total)
	received.Store(0)
	b.ResetTimer()
	for i := range b.N {
		sender.Send(b, testenv.General, "benchmark message", fmt.Sprint("b", i))
		waitFor(int64(i+1) * total)
	}
	b.ReportMetric(float64(int64(b.N)*total)/b.Elapsed().Seconds(), "deliveries/s")
}

// countMessages counts the message events conn receives until it closes.
func countMessages(conn *websocket.Conn, wg *sync.WaitGroup, n *atomic.Int64) {
	defer wg.Done()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if strings.Contains(string(data), `"messageCreated"`) {
			n.Add(1)
		}
	}
}
