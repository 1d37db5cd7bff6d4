package app_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/gorilla/websocket"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// The slow-client tests play an attacker on 127.0.0.1 and a normal user on
// 127.0.0.2: the per-address cap tells them apart.
const (
	attackerAddr = "127.0.0.1"
	userAddr     = "127.0.0.2"
)

// slowBody opens a connection that sends a POST's headers, promising a
// body, and then trickles one byte of it every trickle, as long as the
// server keeps the connection, or until giveUp. It reports how long the
// server kept it, or false if the server never cut it.
func slowBody(t *testing.T, hostport string, trickle, giveUp time.Duration) (time.Duration, bool) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", hostport, giveUp)
	if err != nil {
		t.Errorf("attacker dial: %v", err)
		return 0, false
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(giveUp))
	head := "POST /chat.v1.RoomService/ListRooms HTTP/1.1\r\nHost: " + hostport +
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
	if _, err := io.WriteString(c, head); err != nil {
		return time.Since(start), true
	}
	cut := make(chan bool, 1)
	go func() {
		// Returns when the server closes, or at giveUp with a timeout.
		_, err := io.Copy(io.Discard, c)
		cut <- !errors.Is(err, os.ErrDeadlineExceeded)
	}()
	tick := time.NewTicker(trickle)
	defer tick.Stop()
	for {
		select {
		case ok := <-cut:
			return time.Since(start), ok
		case <-tick.C:
			_, _ = io.WriteString(c, " ")
		}
	}
}

// openFiles counts a process's open file descriptors.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("count chatd's open files: %v", err)
	}
	return len(fds)
}

// metric reads one counter or gauge from the admin listener's /metrics.
func metric(t *testing.T, adminURL, name string) float64 {
	t.Helper()
	resp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestSlowBodiesAreCutOff: 2,000 connections from one address that send
// headers and then trickle a body are cut off, those over the per-address
// cap at once and the others when their body is late, while chatd's open
// files stay bounded and a user on another address is served as usual:
// health check, RPCs, WebSocket.
func TestSlowBodiesAreCutOff(t *testing.T) {
	const (
		attackers   = 2000
		perAddr     = 100
		readTimeout = 2 * time.Second
		// userBound is the longest one of the user's calls may take.
		userBound = time.Second
	)
	env := testenv.ServerEnv(t)
	env["PARLEY_MAX_CONNS_PER_IP"] = strconv.Itoa(perAddr)
	env["PARLEY_READ_TIMEOUT"] = readTimeout.String()
	srv := testenv.StartProcess(t, env)
	hostport := strings.TrimPrefix(srv.URL, "http://")
	user := testenv.NewClientAt(srv.URL, testenv.HTTPClientFrom(userAddr))
	user.Signup(t, "bystander")
	user.Join(t, testenv.General)
	before := openFiles(t, srv.PID())

	start := time.Now()
	var (
		mu      sync.Mutex
		longest time.Duration
		uncut   int
		wg      sync.WaitGroup
	)
	for range attackers {
		wg.Go(func() {
			held, cut := slowBody(t, hostport, time.Second, readTimeout+10*time.Second)
			mu.Lock()
			defer mu.Unlock()
			longest = max(longest, held)
			if !cut {
				uncut++
			}
		})
	}
	// While the attack holds what it can, the user is served as usual and
	// chatd holds no more than the cap's worth of extra files.
	peak, userSlowest := before, time.Duration(0)
	for i := 0; time.Since(start) < readTimeout; i++ {
		peak = max(peak, openFiles(t, srv.PID()))
		userSlowest = max(userSlowest, userCalls(t, srv, user, userBound, i))
	}
	wg.Wait()
	t.Logf("%d slow connections: held at most %s, %d never cut; chatd's open files peaked %d above the %d before; the user's slowest call took %s",
		attackers, longest.Round(time.Millisecond), uncut, peak-before, before, userSlowest.Round(time.Millisecond))
	if uncut > 0 || longest > readTimeout+time.Second {
		t.Errorf("%d slow connections were never cut, and one was held %s: want all cut within the read timeout (%s) and a little", uncut, longest, readTimeout)
	}
	if extra := peak - before; extra > perAddr+50 {
		t.Errorf("chatd held %d more open files during the attack (cap %d per address)", extra, perAddr)
	}
	if refused := metric(t, srv.AdminURL(t), "parley_http_conns_refused_total"); refused < attackers-perAddr {
		t.Errorf("parley_http_conns_refused_total = %v, want at least %d", refused, attackers-perAddr)
	}
	userCalls(t, srv, user, userBound, -1)
}

// userCalls is what the bystander does: the health check, a few RPCs and a
// WebSocket, each within bound. It returns how long the slowest took.
func userCalls(t *testing.T, srv *testenv.Server, user *testenv.Client, bound time.Duration, i int) (slowest time.Duration) {
	t.Helper()
	check := func(what string, call func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*bound)
		defer cancel()
		start := time.Now()
		if err := call(ctx); err != nil {
			t.Fatalf("%s failed for the user during the attack: %v", what, err)
		}
		took := time.Since(start)
		slowest = max(slowest, took)
		if took > bound {
			t.Errorf("%s took %s for the user during the attack, want under %s", what, took, bound)
		}
	}
	check("/healthz", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/healthz", nil)
		resp, err := testenv.HTTPClientFrom(userAddr).Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	})
	check("ListRooms", func(ctx context.Context) error {
		_, err := user.Rooms.ListRooms(ctx, &chatv1.ListRoomsRequest{})
		return err
	})
	check("SendMessage", func(ctx context.Context) error {
		id := fmt.Sprintf("during-attack-%d", i)
		_, err := user.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: testenv.General, Body: id, ClientMsgId: id})
		return err
	})
	check("/ws", func(ctx context.Context) error {
		frame, err := firstWSFrame(ctx, srv, user.Token, userAddr)
		if err == nil && !strings.Contains(frame, `"ready"`) {
			err = fmt.Errorf("first frame %s is not ready", frame)
		}
		return err
	})
	return slowest
}

// firstWSFrame opens /ws from the loopback address from with the token and
// returns the first frame the server sends.
func firstWSFrame(ctx context.Context, srv *testenv.Server, token, from string) (string, error) {
	d := websocket.Dialer{NetDialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}
	conn, _, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(deadline)
	}
	_, frame, err := conn.ReadMessage()
	return string(frame), err
}

// TestIdleConnectionsAreClosed: a kept-alive connection that sends no next
// request is closed after PARLEY_IDLE_TIMEOUT.
func TestIdleConnectionsAreClosed(t *testing.T) {
	const idle = time.Second
	env := testenv.ServerEnv(t)
	env["PARLEY_IDLE_TIMEOUT"] = idle.String()
	srv := testenv.Start(t, env)
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: chatd\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	answered := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(idle + 5*time.Second))
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want EOF (closed by the server)", err)
	}
	if took := time.Since(answered); took < idle || took > idle+2*time.Second {
		t.Errorf("idle connection closed after %s, want %s", took, idle)
	}
}

// httpClient speaks only the given protocols, so a test knows which one a
// call used.
func httpClient(http1 bool) *http.Client {
	c := testenv.HTTPClient()
	p := new(http.Protocols)
	p.SetHTTP1(http1)
	p.SetUnencryptedHTTP2(!http1)
	c.Transport.(*http.Transport).Protocols = p
	return c
}

// TestStreamsOutliveRequestDeadlines: the read, write and idle timeouts
// bound requests, not the streams that last as long as a client listens:
// Subscribe over Connect and gRPC-Web on HTTP/1.1 and over gRPC on HTTP/2,
// and a WebSocket, all quiet for longer than every timeout, still get the
// next message.
func TestStreamsOutliveRequestDeadlines(t *testing.T) {
	const timeout = time.Second
	env := testenv.ServerEnv(t)
	for _, name := range []string{"PARLEY_READ_TIMEOUT", "PARLEY_WRITE_TIMEOUT", "PARLEY_IDLE_TIMEOUT"} {
		env[name] = timeout.String()
	}
	srv := testenv.Start(t, env)
	sender := testenv.NewClient(srv, testenv.Protocols[0])
	sender.Signup(t, "speaker")
	sender.Join(t, testenv.General)
	listener := testenv.NewClient(srv, testenv.Protocols[0])
	listener.Signup(t, "quiet")
	listener.Join(t, testenv.General)

	streams := map[string]*connect.ServerStreamForClient[chatv1.SubscribeResponse]{}
	for name, c := range map[string]*testenv.Client{
		"connect over HTTP/1.1":  testenv.NewClientAt(srv.URL, httpClient(true)),
		"grpc-web over HTTP/1.1": testenv.NewClientAt(srv.URL, httpClient(true), connect.WithGRPCWeb()),
		"grpc over HTTP/2":       testenv.NewClientAt(srv.URL, httpClient(false), connect.WithGRPC()),
	} {
		c.Token = listener.Token
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		stream, err := c.Messages.Subscribe(ctx, &chatv1.SubscribeRequest{})
		if err != nil || !stream.Receive() || stream.Msg().GetReady() == nil {
			t.Fatalf("Subscribe, %s: no ready frame (%v, %v)", name, err, stream.Err())
		}
		streams[name] = stream
	}
	ws, _ := testenv.DialWS(t, srv.URL, listener.Token)

	time.Sleep(3 * timeout) // quiet for longer than every timeout
	sent := sender.Send(t, testenv.General, "still there?", "late")
	for name, stream := range streams {
		for stream.Receive() && stream.Msg().GetEvent().GetMessageCreated() == nil {
		}
		if got := stream.Msg().GetEvent(); got.GetSeq() != sent.GetSeq() {
			t.Errorf("Subscribe, %s, after a quiet spell: got %v (%v), want seq %d", name, got, stream.Err(), sent.GetSeq())
		}
	}
	ws.Messages(testenv.General, sent.GetSeq(), 5*time.Second)
}
