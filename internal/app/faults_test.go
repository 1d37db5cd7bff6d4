package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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

// TestMySQLOutage: while MySQL is unreachable, sends fail fast with
// unavailable and nothing is acknowledged, readiness is false, and service
// comes back by itself.
func TestMySQLOutage(t *testing.T) {
	env := testenv.WithDefaultTimeouts(testenv.ServerEnv(t))
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
		if readyStatus(t, srv) != http.StatusServiceUnavailable {
			t.Fatal("/readyz says ready while MySQL is unreachable")
		}
		time.Sleep(500 * time.Millisecond)
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

// outageBound is the longest any call may take while MySQL or Redis is
// down or hung: well under a client's own wait, so that it hears
// unavailable (and retries) instead of timing out.
const outageBound = 2 * time.Second

// outageLasts is how long each fault test keeps its dependency down.
const outageLasts = 10 * time.Second

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

// slowest records the longest each kind of call took during an outage.
type slowest map[string]time.Duration

// call runs one call as a client would, with a wait of its own longer than
// outageBound, and fails the test if it took longer than the bound.
func (s slowest) call(t *testing.T, what string, call func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*outageBound)
	defer cancel()
	start := time.Now()
	err := call(ctx)
	took := time.Since(start)
	s[what] = max(s[what], took)
	if took > outageBound {
		t.Errorf("%s took %s during the outage, want under %s (%v)", what, took, outageBound, err)
	}
	return err
}

// unavailable checks what both outages refuse, each within the bound:
// /readyz answers 503 naming exactly the parts down, and a login (of the
// user signed up as name) and a member list answer unavailable.
func (s slowest) unavailable(t *testing.T, srv *testenv.Server, c *testenv.Client, name string, down map[string]string) {
	t.Helper()
	_ = s.call(t, "/readyz", func(context.Context) error {
		wantNotReady(t, srv, down)
		return nil
	})
	wantCode(t, s.call(t, "Login", func(ctx context.Context) error {
		_, err := c.Auth.Login(ctx, &chatv1.LoginRequest{Login: name, Password: "password-" + name})
		return err
	}), connect.CodeUnavailable)
	wantCode(t, s.call(t, "ListMembers", func(ctx context.Context) error {
		_, err := c.Rooms.ListMembers(ctx, &chatv1.ListMembersRequest{RoomId: testenv.General})
		return err
	}), connect.CodeUnavailable)
}

func (s slowest) String() string {
	var parts []string
	for what, took := range s {
		parts = append(parts, fmt.Sprintf("%s %s", what, took.Round(time.Millisecond)))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// traffic is a client sending to a room at 20 messages a second, each in a
// call of its own so that slow answers do not slow the rate, recording
// every answer and how long the slowest took.
type traffic struct {
	t    *testing.T
	c    *testenv.Client
	room int64
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	sent    []string         // client ids (and bodies), in the order sent
	acked   map[string]int64 // client id → acknowledged seq
	failed  map[string]error
	slowest time.Duration
}

// trafficEvery is the gap between two sends: 20 a second.
const trafficEvery = 50 * time.Millisecond

func startTraffic(t *testing.T, c *testenv.Client, room int64) *traffic {
	tr := &traffic{t: t, c: c, room: room, stop: make(chan struct{}), acked: map[string]int64{}, failed: map[string]error{}}
	tr.wg.Go(func() {
		tick := time.NewTicker(trafficEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
			id := fmt.Sprintf("m%d", i)
			tr.mu.Lock()
			tr.sent = append(tr.sent, id)
			tr.mu.Unlock()
			tr.wg.Go(func() { tr.send(id) })
		}
	})
	return tr
}

func (tr *traffic) send(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*outageBound)
	defer cancel()
	start := time.Now()
	res, err := tr.c.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: tr.room, Body: id, ClientMsgId: id})
	took := time.Since(start)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.slowest = max(tr.slowest, took)
	if err != nil {
		tr.failed[id] = err
		return
	}
	delete(tr.failed, id)
	tr.acked[id] = res.GetMessage().GetSeq()
}

// waitAcked waits until n sends are acknowledged.
func (tr *traffic) waitAcked(n int) {
	tr.t.Helper()
	eventually(tr.t, 10*time.Second, fmt.Sprintf("%d sends acknowledged", n), func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.acked) >= n
	})
}

// Stop ends the traffic and waits for every answer.
func (tr *traffic) Stop() {
	close(tr.stop)
	tr.wg.Wait()
}

// retryFailed sends every refused message again with its client id, as a
// client does once the service is back, until all are acknowledged.
func (tr *traffic) retryFailed() {
	tr.t.Helper()
	for id := range tr.failed {
		seq, err := sendUntilAcked(func() *testenv.Client { return tr.c }, tr.room, id, id, 15*time.Second)
		if err != nil {
			tr.t.Fatalf("%s never acknowledged after the outage: %v", id, err)
		}
		tr.acked[id] = seq
	}
	clear(tr.failed)
}

// checkStored reads the room back from MySQL: every message sent is stored
// exactly once, at the seq it was acknowledged with, in a gapless
// sequence, with nothing stored that was not sent.
func (tr *traffic) checkStored(others ...string) {
	tr.t.Helper()
	stored := allMessages(tr.t, tr.c, tr.room)
	want := len(tr.sent) + len(others)
	if len(stored) != want {
		tr.t.Fatalf("%d messages stored, want %d (%d sent during the test and %d others)", len(stored), want, len(tr.sent), len(others))
	}
	for i, m := range stored {
		if m.GetSeq() != int64(i+1) {
			tr.t.Fatalf("row %d has seq %d: gap or duplicate", i, m.GetSeq())
		}
		if seq, ok := tr.acked[m.GetBody()]; ok && seq != m.GetSeq() {
			tr.t.Fatalf("%s was acknowledged as seq %d but stored as %d", m.GetBody(), seq, m.GetSeq())
		}
	}
}

// TestRedisOutage: Redis is killed (or hung: paused with SIGSTOP) for 10 s
// while a client sends 20 messages a second. Every send is acknowledged throughout, on the signed
// token alone, within the bound; logins and refreshes answer unavailable
// within it; /readyz names Redis and the event feed, not MySQL. When
// Redis is back, /readyz turns 200 only once live delivery works: a
// message sent right then reaches a live WebSocket, which has every
// message in order. Then what happens to sessions is what the README
// says: restarted with its data (or resumed), the same tokens and refresh
// tokens go on working; restarted empty, they are refused and the user
// logs in again.
func TestRedisOutage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		down, up func(*testenv.RedisServer)
		empty    bool
	}{
		{"RestartedWithData", (*testenv.RedisServer).Kill, (*testenv.RedisServer).Start, false},
		{"RestartedEmpty", (*testenv.RedisServer).Kill, func(r *testenv.RedisServer) { r.Wipe(); r.Start() }, true},
		{"Hung", (*testenv.RedisServer).Pause, (*testenv.RedisServer).Resume, false},
	} {
		t.Run(tc.name, func(t *testing.T) { redisOutage(t, tc.down, tc.up, tc.empty) })
	}
}

func redisOutage(t *testing.T, down, up func(*testenv.RedisServer), empty bool) {
	redis := testenv.StartRedis(t)
	env := testenv.WithDefaultTimeouts(testenv.ServerEnv(t))
	env["PARLEY_REDIS_URL"] = redis.URL()
	srv := testenv.Start(t, env)
	sender := testenv.NewClient(srv, testenv.Protocols[0])
	login := sender.Signup(t, "talker")
	sender.Join(t, testenv.General)
	reader := testenv.NewClient(srv, testenv.Protocols[0])
	reader.Signup(t, "listener")
	reader.Join(t, testenv.General)
	ws, _ := testenv.DialWS(t, srv.URL, reader.Token)

	tr := startTraffic(t, sender, testenv.General)
	tr.waitAcked(10)
	down(redis)
	eventually(t, 5*time.Second, "/readyz names Redis and the event feed", func() bool {
		_, body := readyBody(t, srv)
		return body["redis"] != "ok" && body["events"] != "ok"
	})
	calls := slowest{}
	for end := time.Now().Add(outageLasts); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		calls.unavailable(t, srv, sender, "talker", map[string]string{"redis": "unavailable", "events": "not live"})
		wantCode(t, calls.call(t, "Refresh", func(ctx context.Context) error {
			_, err := sender.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: login.GetRefreshToken()})
			return err
		}), connect.CodeUnavailable)
		_ = calls.call(t, "opening /ws", func(ctx context.Context) error {
			frame, err := firstWSFrame(ctx, srv, sender.Token, "127.0.0.1")
			if err != nil || !strings.Contains(frame, `"code":"unavailable"`) {
				t.Errorf("opening /ws while Redis is down: first frame %s (%v), want an unavailable error", frame, err)
			}
			return err
		})
	}
	tr.Stop()
	if len(tr.failed) > 0 || tr.slowest > outageBound {
		t.Fatalf("%d of %d sends failed while Redis was down (%v), the slowest took %s: want every one acknowledged within %s",
			len(tr.failed), len(tr.sent), tr.failed, tr.slowest, outageBound)
	}
	t.Logf("Redis down %s: %d sends acknowledged, the slowest in %s; slowest other calls: %v", outageLasts, len(tr.acked), tr.slowest.Round(time.Millisecond), calls)
	up(redis)
	var readyAt time.Time
	eventually(t, 15*time.Second, "ready again", func() bool {
		readyAt = time.Now()
		return readyStatus(t, srv) == http.StatusOK
	})
	if empty {
		sessionsGone(t, sender, login)
	} else {
		sessionsKept(t, sender, login)
	}
	live := sender.Send(t, testenv.General, "live", "live")
	seqs := ws.Messages(testenv.General, live.GetSeq(), time.Second)
	t.Logf("a message sent %s after /readyz said 200 reached the live WebSocket", time.Since(readyAt).Round(time.Millisecond))
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("the live client saw %v: gap, duplicate or disorder at %d", seqs, i)
		}
	}
	tr.checkStored("live")
}

// sessionsKept: after Redis came back with its data, the token issued
// before the outage still works, and so does its refresh token, once.
func sessionsKept(t *testing.T, c *testenv.Client, login *chatv1.LoginResponse) {
	t.Helper()
	if _, err := c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{}); err != nil {
		t.Fatalf("the access token from before the outage: %v", err)
	}
	res, err := c.Auth.Refresh(context.Background(), &chatv1.RefreshRequest{RefreshToken: login.GetRefreshToken()})
	if err != nil {
		t.Fatalf("the refresh token from before the outage: %v", err)
	}
	c.Token = res.GetAccessToken()
}

// sessionsGone: after Redis came back empty, the session is gone: its
// access and refresh tokens are refused, and logging in again works.
func sessionsGone(t *testing.T, c *testenv.Client, login *chatv1.LoginResponse) {
	t.Helper()
	_, err := c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{})
	wantCode(t, err, connect.CodeUnauthenticated)
	_, err = c.Auth.Refresh(context.Background(), &chatv1.RefreshRequest{RefreshToken: login.GetRefreshToken()})
	wantCode(t, err, connect.CodeUnauthenticated)
	res, err := c.Auth.Login(context.Background(), &chatv1.LoginRequest{Login: "talker", Password: "password-talker"})
	if err != nil {
		t.Fatalf("log in again: %v", err)
	}
	c.Token = res.GetAccessToken()
}

// TestMySQLPaused: MariaDB is paused (SIGSTOP, as a hung disk or a stalled
// primary looks) for 10 s while a client sends 20 messages a second. Every
// call answers within the bound: sends, logins and ListMembers with
// unavailable; /readyz names MySQL and nothing else. After SIGCONT the
// refused sends are retried with their client ids, and MySQL holds every
// message once, each acknowledged one at the seq it was acknowledged with.
func TestMySQLPaused(t *testing.T) {
	db := testenv.StartMariaDB(t)
	env := testenv.WithDefaultTimeouts(testenv.ServerEnv(t))
	env["PARLEY_MYSQL_DSN"] = db.DSN("parley")
	srv := testenv.Start(t, env)
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(t, "writer")
	c.Join(t, testenv.General)

	tr := startTraffic(t, c, testenv.General)
	tr.waitAcked(10)
	db.Pause()
	paused := time.Now()
	calls := slowest{}
	for time.Since(paused) < outageLasts {
		calls.unavailable(t, srv, c, "writer", map[string]string{"mysql": "unavailable"})
	}
	db.Resume()
	eventually(t, 15*time.Second, "ready again", func() bool { return readyStatus(t, srv) == http.StatusOK })
	tr.Stop()
	for id, err := range tr.failed {
		if testenv.CodeOf(err) != connect.CodeUnavailable {
			t.Errorf("send %s during the pause: %v, want unavailable", id, err)
		}
	}
	if tr.slowest > outageBound {
		t.Errorf("the slowest send took %s, want under %s", tr.slowest, outageBound)
	}
	t.Logf("MySQL paused %s: %d sends answered unavailable, %d acknowledged, the slowest in %s; slowest other calls: %v",
		outageLasts, len(tr.failed), len(tr.acked), tr.slowest.Round(time.Millisecond), calls)
	tr.retryFailed()
	tr.checkStored()
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
