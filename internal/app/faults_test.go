package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

func readyStatus(t *testing.T, srv *testenv.Server) int {
	t.Helper()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendUntilAcked retries one message with its client id until it is
// acknowledged, as a client should; it returns the acknowledged seq.
func sendUntilAcked(c func() *testenv.Client, roomID int64, body, id string, within time.Duration) (int64, error) {
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := c().Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: roomID, Body: body, ClientMsgId: id})
		cancel()
		if err == nil {
			return res.GetMessage().GetSeq(), nil
		}
		if time.Now().After(deadline) {
			return 0, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readyBody is /readyz's status and answer.
func readyBody(t *testing.T, srv *testenv.Server) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("/readyz answered %s with no JSON: %v", resp.Status, err)
	}
	return resp.StatusCode, body
}

// wantNotReady checks that /readyz answers 503 naming exactly the parts
// down as not ok, with no driver's words in it.
func wantNotReady(t *testing.T, srv *testenv.Server, down map[string]string) {
	t.Helper()
	code, body := readyBody(t, srv)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz answered %d %v during the outage, want 503", code, body)
	}
	for _, part := range []string{"mysql", "redis", "events"} {
		want := "ok"
		if w, ok := down[part]; ok {
			want = w
		}
		if body[part] != want {
			t.Fatalf("/readyz says %s is %q during the outage, want %q (answer %v)", part, body[part], want, body)
		}
	}
}

// adminReady is the admin listener's /readyz answer, which has reasons.
func adminReady(t *testing.T, srv *testenv.Server) map[string]string {
	t.Helper()
	resp, err := http.Get(srv.AdminURL(t) + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("admin /readyz: %v", err)
	}
	return body
}

// TestMySQLOutage: while MySQL is unreachable, sends fail fast with
// unavailable and nothing is acknowledged, readiness is false and names
// MySQL alone (the admin listener says why), and service comes back by
// itself.
func TestMySQLOutage(t *testing.T) {
	env := testenv.ServerEnv(t)
	proxy := testenv.NewProxy(t, "127.0.0.1:3306")
	env["PARLEY_MYSQL_DSN"] = strings.Replace(env["PARLEY_MYSQL_DSN"], "127.0.0.1:3306", proxy.Addr, 1)
	srv := testenv.Start(t, env)
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(t, "outage")
	c.Join(t, testenv.General)
	c.Send(t, testenv.General, "before", "before")

	proxy.Cut()
	outageEnds := time.Now().Add(10 * time.Second)
	for i := 0; time.Now().Before(outageEnds); i++ {
		start := time.Now()
		_, err := c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: testenv.General, Body: "during", ClientMsgId: fmt.Sprintf("during-%d", i)})
		if took := time.Since(start); took > 4*time.Second {
			t.Fatalf("a send during the outage took %s: not failing fast", took)
		}
		wantCode(t, err, connect.CodeUnavailable)
		wantNotReady(t, srv, map[string]string{"mysql": "unavailable"})
		time.Sleep(500 * time.Millisecond)
	}
	if reason := adminReady(t, srv)["mysql"]; reason == "ok" || reason == "unavailable" {
		t.Errorf("the admin listener's /readyz says mysql is %q, want the reason it failed", reason)
	}
	proxy.Restore()

	if _, err := sendUntilAcked(func() *testenv.Client { return c }, testenv.General, "after", "after", 15*time.Second); err != nil {
		t.Fatalf("service did not recover: %v", err)
	}
	eventually(t, 10*time.Second, "ready again", func() bool { return readyStatus(t, srv) == http.StatusOK })
	var bodies []string
	for _, m := range allMessages(t, c, testenv.General) {
		bodies = append(bodies, m.GetBody())
	}
	if fmt.Sprint(bodies) != "[before after]" {
		t.Fatalf("stored %v: a send refused during the outage was stored", bodies)
	}
}

// TestRedisRestart: Redis restarts during traffic; sends keep succeeding,
// readiness shows the outage, and a live client ends with the full history
// without doing anything.
func TestRedisRestart(t *testing.T) {
	redis := testenv.StartRedis(t)
	env := testenv.ServerEnv(t)
	env["PARLEY_REDIS_URL"] = redis.URL()
	srv := testenv.Start(t, env)
	sender := testenv.NewClient(srv, testenv.Protocols[0])
	sender.Signup(t, "talker")
	sender.Join(t, testenv.General)
	reader := testenv.NewClient(srv, testenv.Protocols[0])
	reader.Signup(t, "listener")
	reader.Join(t, testenv.General)
	ws, _ := testenv.DialWS(t, srv.URL, reader.Token)

	const total = 60
	var firstTryFailures int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= total; i++ {
			_, err := sender.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: testenv.General, Body: fmt.Sprintf("m%d", i), ClientMsgId: fmt.Sprintf("m%d", i)})
			if err != nil {
				firstTryFailures++
				if _, err := sendUntilAcked(func() *testenv.Client { return sender }, testenv.General, fmt.Sprintf("m%d", i), fmt.Sprintf("m%d", i), 20*time.Second); err != nil {
					t.Errorf("send m%d never acknowledged: %v", i, err)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(700 * time.Millisecond)
	redis.Stop()
	eventually(t, 5*time.Second, "/readyz reports the Redis outage", func() bool { return readyStatus(t, srv) == http.StatusServiceUnavailable })
	time.Sleep(time.Second)
	redis.Start()
	<-done
	if firstTryFailures > 0 {
		t.Errorf("%d sends failed while Redis restarted", firstTryFailures)
	}
	seqs := ws.Messages(testenv.General, total, 30*time.Second)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("the live client saw %v: gap, duplicate or disorder at %d", seqs, i)
		}
	}
	eventually(t, 10*time.Second, "ready again", func() bool { return readyStatus(t, srv) == http.StatusOK })
}

// TestKill9DuringBurst: chatd is killed with SIGKILL while many clients
// send; they retry with the same client ids against a new process. Every
// acknowledged message is stored exactly once, the seq is gapless, and a
// resuming client sees exactly the history.
func TestKill9DuringBurst(t *testing.T) {
	env := testenv.ServerEnv(t)
	first := testenv.StartProcess(t, env)
	const senders, each = 8, 40
	tokens := make([]string, senders)
	for i := range tokens {
		c := testenv.NewClient(first, testenv.Protocols[i%2])
		c.Signup(t, fmt.Sprintf("burst%d", i))
		c.Join(t, testenv.General)
		tokens[i] = c.Token
	}
	var (
		mu      sync.Mutex
		current = first
		acked   = map[string]int64{}
		wg      sync.WaitGroup
	)
	clientOf := func(i int) func() *testenv.Client {
		return func() *testenv.Client {
			mu.Lock()
			defer mu.Unlock()
			c := testenv.NewClient(current, testenv.Protocols[i%2])
			c.Token = tokens[i]
			return c
		}
	}
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				body := fmt.Sprintf("s%d-%d", i, j)
				seq, err := sendUntilAcked(clientOf(i), testenv.General, body, body, 60*time.Second)
				if err != nil {
					t.Errorf("%s never acknowledged: %v", body, err)
					return
				}
				mu.Lock()
				acked[body] = seq
				mu.Unlock()
			}
		}()
	}
	eventually(t, 30*time.Second, "a third of the burst acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= senders*each/3
	})
	if err := first.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	second := testenv.StartProcess(t, env)
	mu.Lock()
	current = second
	mu.Unlock()
	wg.Wait()

	checker := clientOf(0)()
	stored := allMessages(t, checker, testenv.General)
	if len(stored) != senders*each || len(acked) != senders*each {
		t.Fatalf("stored %d, acknowledged %d, want %d each", len(stored), len(acked), senders*each)
	}
	for i, m := range stored {
		if m.GetSeq() != int64(i+1) || acked[m.GetBody()] != m.GetSeq() {
			t.Fatalf("row %d: seq %d body %q acknowledged as %d", i, m.GetSeq(), m.GetBody(), acked[m.GetBody()])
		}
	}
	ws, _ := testenv.DialWS(t, second.URL, tokens[1])
	ws.Resume(testenv.General, 0)
	seqs := ws.Messages(testenv.General, int64(len(stored)), 30*time.Second)
	if len(seqs) != len(stored) {
		t.Fatalf("the resuming client saw %d messages, want %d", len(seqs), len(stored))
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("resume replayed %d at position %d", s, i)
		}
	}
}
