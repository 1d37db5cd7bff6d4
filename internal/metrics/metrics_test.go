package metrics_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// waitFor bounds every wait on the server in these tests.
const waitFor = 10 * time.Second

// adminEnv is a server of the test's own with the admin listener on a free
// port, logging at info so that its address can be read from the log.
func adminEnv(tb testing.TB) testenv.Env {
	tb.Helper()
	env := testenv.ServerEnv(tb)
	env["PARLEY_LOG_LEVEL"] = "info"
	env["PARLEY_ADMIN_ADDR"] = "127.0.0.1:0"
	return env
}

// adminURL finds the admin listener's address in the server's log.
func adminURL(tb testing.TB, srv *testenv.Server) string {
	tb.Helper()
	for _, line := range srv.Logs.Lines() {
		if !strings.Contains(line, `"msg":"admin endpoints are listening"`) {
			continue
		}
		const key = `"addr":"`
		i := strings.Index(line, key)
		if i < 0 {
			break
		}
		rest := line[i+len(key):]
		return "http://" + rest[:strings.IndexByte(rest, '"')]
	}
	tb.Fatalf("no admin listener in the log:\n%s", strings.Join(srv.Logs.Lines(), "\n"))
	return ""
}

// scrape reads /metrics in the text format.
func scrape(tb testing.TB, admin string) map[string]*dto.MetricFamily {
	tb.Helper()
	res, err := http.Get(admin + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: %s", res.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		tb.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// value sums the series of family name whose labels include want; for a
// histogram it sums the observation counts.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := families[name]
	if !ok {
		return -1
	}
	sum := 0.0
	for _, m := range f.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// dialWS opens /ws with a bearer token and reads the ready frame.
func dialWS(tb testing.TB, base, token string) *websocket.Conn {
	tb.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	conn, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", h)
	if err != nil {
		tb.Fatalf("dial /ws: %v (%v)", err, res)
	}
	tb.Cleanup(func() { conn.Close() })
	if f := readFrame(tb, conn); f.GetReady() == nil {
		tb.Fatalf("first frame is not ready: %v", f)
	}
	return conn
}

func readFrame(tb testing.TB, conn *websocket.Conn) *chatv1.ServerFrame {
	tb.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(waitFor))
	_, data, err := conn.ReadMessage()
	if err != nil {
		tb.Fatalf("read /ws: %v", err)
	}
	var f chatv1.ServerFrame
	if err := protojson.Unmarshal(data, &f); err != nil {
		tb.Fatalf("frame %s: %v", data, err)
	}
	return &f
}

// waitMessage reads frames until the message with body arrives.
func waitMessage(tb testing.TB, conn *websocket.Conn, body string) {
	tb.Helper()
	for {
		if readFrame(tb, conn).GetEvent().GetMessageCreated().GetMessage().GetBody() == body {
			return
		}
	}
}

func TestMetricsMoveWithTraffic(t *testing.T) {
	srv := testenv.Start(t, adminEnv(t))
	admin := adminURL(t, srv)
	before := scrape(t, admin)

	ctx := context.Background()
	alice := testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	alice.Join(t, testenv.General)
	bob := testenv.NewClient(srv, testenv.Protocols[0])
	bob.Signup(t, "bob")
	bob.Join(t, testenv.General)
	_, err := bob.Auth.Login(ctx, &chatv1.LoginRequest{Login: "bob", Password: "wrong password"})
	if testenv.CodeOf(err).String() != "unauthenticated" {
		t.Fatalf("login with a wrong password: %v", err)
	}

	live := dialWS(t, srv.URL, alice.Token)
	bob.Send(t, testenv.General, "one", "m1")
	bob.Send(t, testenv.General, "two", "m2")
	waitMessage(t, live, "two")
	// A second connection resumes from the start: two messages replayed.
	resumer := dialWS(t, srv.URL, alice.Token)
	if err := resumer.WriteMessage(websocket.TextMessage, []byte(`{"resume":{"rooms":[{"roomId":"1","afterSeq":"0"}]}}`)); err != nil {
		t.Fatal(err)
	}
	waitMessage(t, resumer, "two")

	after := scrape(t, admin)
	register := map[string]string{"procedure": "/chat.v1.AuthService/Register", "code": "ok"}
	send := map[string]string{"procedure": "/chat.v1.MessageService/SendMessage", "code": "ok"}
	refused := map[string]string{"procedure": "/chat.v1.AuthService/Login", "code": "unauthenticated"}
	// Counters must have moved by the traffic above; gauges must read
	// the state it left.
	cases := []struct {
		name    string
		metric  string
		labels  map[string]string
		atLeast float64
		gauge   bool
	}{
		{"RegisterCounted", "parley_rpc_requests_total", register, 2, false},
		{"SendCounted", "parley_rpc_requests_total", send, 2, false},
		{"RefusedLoginCounted", "parley_rpc_requests_total", refused, 1, false},
		{"SendLatencyObserved", "parley_rpc_duration_seconds", send, 2, false},
		{"EventsFannedOut", "parley_push_events_fanned_out_total", nil, 2, false},
		{"ResumeReplays", "parley_push_resume_replays_total", nil, 2, false},
		{"LiveConnections", "parley_live_connections", nil, 2, true},
		{"BusPublished", "parley_bus_messages_published_total", nil, 2, false},
		{"BusReceived", "parley_bus_messages_received_total", nil, 2, false},
		{"BusReceivedBytes", "parley_bus_received_bytes_total", nil, 2, false},
		{"BusTopics", "parley_bus_topics", nil, 2, true}, // General and alice
		{"MySQLPoolOpen", "go_sql_open_connections", map[string]string{"db_name": "parley"}, 1, true},
		{"RedisUp", "parley_redis_up", nil, 1, true},
		{"GoRuntime", "go_goroutines", nil, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := value(after, tc.metric, tc.labels)
			if !tc.gauge {
				got -= max(value(before, tc.metric, tc.labels), 0)
			}
			if got < tc.atLeast {
				t.Fatalf("%s%v = %v (gauge %v), want at least %v", tc.metric, tc.labels, got, tc.gauge, tc.atLeast)
			}
		})
	}
	t.Run("CountersExist", func(t *testing.T) {
		for _, name := range []string{"parley_push_slow_consumers_total", "parley_push_too_far_behind_total", "parley_redis_ping_seconds", "go_sql_wait_count_total"} {
			if value(after, name, nil) < 0 {
				t.Errorf("%s is missing", name)
			}
		}
	})
	t.Run("AdminOnly", func(t *testing.T) {
		for _, tc := range []struct{ path, marker string }{
			{"/metrics", "parley_rpc_requests_total"},
			{"/debug/pprof/", "Types of profiles available"},
		} {
			if body := get(t, admin+tc.path); !strings.Contains(body, tc.marker) {
				t.Errorf("admin %s lacks %q", tc.path, tc.marker)
			}
			if body := get(t, srv.URL+tc.path); strings.Contains(body, tc.marker) {
				t.Errorf("the public port serves %s", tc.path)
			}
		}
	})
}

func get(tb testing.TB, url string) string {
	tb.Helper()
	res, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return string(body)
}

func TestAdminListenerStopsWithServer(t *testing.T) {
	env := adminEnv(t)
	srv := testenv.StartProcess(t, env)
	admin := adminURL(t, srv)
	scrape(t, admin)
	if err := srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	select {
	case <-exited:
	case <-time.After(waitFor):
		t.Fatalf("chatd did not exit within %s of SIGTERM", waitFor)
	}
	if !srv.Logs.Wait(`"msg":"stopped"`, 2*time.Second) {
		t.Fatalf("chatd did not shut down gracefully:\n%s", strings.Join(srv.Logs.Lines(), "\n"))
	}
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(admin, "http://"), time.Second)
	if err == nil {
		conn.Close()
		t.Fatal("the admin listener still accepts connections after shutdown")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Logf("dial after shutdown: %v", err)
	}
}

func TestAdminListenerOff(t *testing.T) {
	env := adminEnv(t)
	env["PARLEY_ADMIN_ADDR"] = "off"
	srv := testenv.Start(t, env)
	for _, line := range srv.Logs.Lines() {
		if strings.Contains(line, "admin endpoints are listening") {
			t.Fatalf("PARLEY_ADMIN_ADDR=off still started the admin listener: %s", line)
		}
	}
}
