// Package deploy_test proves the deployment files without Docker: it checks
// compose.yaml and the Dockerfile against what chatd reads, and runs the same
// topology (two chatd processes behind nginx with the same proxy template)
// on this machine.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// Waits in these tests.
const (
	waitFor     = 15 * time.Second
	nginxBinary = "/usr/sbin/nginx"
)

// repoFile is the path of a file at the repository's top.
func repoFile(name string) string { return filepath.Join(testenv.RepoRoot(), name) }

// proxyTemplate is the nginx template compose.yaml mounts.
const proxyTemplate = "deploy/nginx/default.conf.template"

// serverEnv is a chatd of the test's own, logging at info (the listening
// line), without the admin listener unless a test asks for it.
func serverEnv(tb testing.TB) testenv.Env {
	tb.Helper()
	env := testenv.ServerEnv(tb)
	env["PARLEY_LOG_LEVEL"] = "info"
	env["PARLEY_ADMIN_ADDR"] = "off"
	return env
}

// hostPort is a server URL's host:port.
func hostPort(url string) string { return strings.TrimPrefix(url, "http://") }

// freeAddr finds a loopback port nobody listens on.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// envsubst renders a template like the nginx image's entrypoint does
// (envsubst restricted to the defined variables): $NAME and ${NAME} of the
// given names are replaced, nginx's own $variables are left alone.
func envsubst(tmpl string, vars map[string]string) string {
	re := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
	return re.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

// proxy is a running nginx with Parley's template.
type proxy struct {
	// HTTP is the base URL for browsers and HTTP/1.1; GRPC the one for gRPC.
	HTTP, GRPC string
	dir        string
}

// errorLog is what nginx logged, for failure messages.
func (p *proxy) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "error.log"))
	return string(b)
}

// startProxy runs /usr/sbin/nginx in the foreground with the template
// rendered for the given upstreams (host:port of each replica), in a prefix
// of the test's own, and stops it gracefully when the test ends.
func startProxy(tb testing.TB, upstreams ...string) *proxy {
	tb.Helper()
	if len(upstreams) != 2 {
		tb.Fatalf("the template has two upstreams, got %d", len(upstreams))
	}
	if _, err := os.Stat(nginxBinary); err != nil {
		tb.Fatalf("the proxy tests run Debian's nginx: apt-get install -y nginx-light (%v)", err)
	}
	tmpl, err := os.ReadFile(repoFile(proxyTemplate))
	if err != nil {
		tb.Fatal(err)
	}
	httpAddr, grpcAddr := freeAddr(tb), freeAddr(tb)
	site := envsubst(string(tmpl), map[string]string{
		"LISTEN_HTTP": httpAddr, "LISTEN_GRPC": grpcAddr,
		"CHATD_1": upstreams[0], "CHATD_2": upstreams[1],
	})
	if strings.Contains(site, "${") {
		tb.Fatalf("template variables left after rendering:\n%s", site)
	}
	dir := tb.TempDir()
	// The image's nginx.conf around conf.d: here everything the process
	// writes stays in the test's folder.
	var main bytes.Buffer
	if os.Geteuid() == 0 {
		main.WriteString("user root;\n") // workers must reach the test's folder
	}
	fmt.Fprintf(&main, `worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 512; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/default.conf;
}
`, dir)
	for name, body := range map[string][]byte{"nginx.conf": main.Bytes(), "default.conf": []byte(site)} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	p := &proxy{HTTP: "http://" + httpAddr, GRPC: "http://" + grpcAddr, dir: dir}
	cmd := exec.Command(nginxBinary, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"),
		"-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start nginx: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful
		select {
		case <-done:
		case <-time.After(waitFor):
			_ = cmd.Process.Kill()
			<-done
		}
		if tb.Failed() {
			tb.Logf("nginx error log:\n%s", p.errorLog())
		}
	})
	deadline := time.Now().Add(waitFor)
	for _, addr := range []string{httpAddr, grpcAddr} {
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case err := <-done:
				tb.Fatalf("nginx exited: %v\n%s\n%s", err, out.String(), p.errorLog())
			default:
			}
			if time.Now().After(deadline) {
				tb.Fatalf("nginx does not listen on %s:\n%s", addr, p.errorLog())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return p
}

// wsClient is one /ws connection read frame by frame.
type wsClient struct {
	tb   testing.TB
	conn *websocket.Conn
}

// dialWS opens base/ws with a bearer token (and an Origin, as browsers send,
// when origin is set) and reads the ready frame.
func dialWS(tb testing.TB, base, token, origin string) *wsClient {
	tb.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	if origin != "" {
		h.Set("Origin", origin)
	}
	conn, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", h)
	if err != nil {
		status := ""
		if res != nil {
			status = res.Status
		}
		tb.Fatalf("dial %s/ws: %v %s", base, err, status)
	}
	tb.Cleanup(func() { conn.Close() })
	c := &wsClient{tb: tb, conn: conn}
	if f, err := c.next(waitFor); err != nil || f.GetReady() == nil {
		tb.Fatalf("first frame is not ready: %v %v", f, err)
	}
	return c
}

// next reads one frame within d.
func (c *wsClient) next(d time.Duration) (*chatv1.ServerFrame, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	var f chatv1.ServerFrame
	if err := protojson.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("frame %s: %w", data, err)
	}
	return &f, nil
}

// send writes a client frame given as protojson.
func (c *wsClient) send(frame string) {
	c.tb.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.tb.Fatalf("write %s: %v", frame, err)
	}
}

// received is a message event: its seq and body.
type received struct {
	seq  int64
	body string
}

// messagesUntil reads frames until the message with body arrives and returns
// every message event read on the way, in order. Other events are skipped;
// reconnect and error frames fail the test.
func (c *wsClient) messagesUntil(body string) []received {
	c.tb.Helper()
	var got []received
	for {
		f, err := c.next(waitFor)
		if err != nil {
			c.tb.Fatalf("waiting for %q (got %v): %v", body, got, err)
		}
		if f.GetReconnect() != nil || f.GetError() != nil {
			c.tb.Fatalf("waiting for %q: unexpected frame %v", body, f)
		}
		ev := f.GetEvent()
		m := ev.GetMessageCreated().GetMessage()
		if m == nil {
			continue
		}
		got = append(got, received{seq: ev.GetSeq(), body: m.GetBody()})
		if m.GetBody() == body {
			return got
		}
	}
}

// quiet asserts that no message event arrives within d.
func (c *wsClient) quiet(d time.Duration) {
	c.tb.Helper()
	deadline := time.Now().Add(d)
	for {
		f, err := c.next(time.Until(deadline))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return
		}
		if err != nil {
			c.tb.Fatalf("connection failed while quiet: %v", err)
		}
		if m := f.GetEvent().GetMessageCreated().GetMessage(); m != nil {
			c.tb.Fatalf("unexpected message %q (seq %d)", m.GetBody(), f.GetEvent().GetSeq())
		}
	}
}

// scrape reads /metrics as series → value ("name{label="v",...}" as
// written, labels in the order Prometheus sorts them).
func scrape(tb testing.TB, admin string) map[string]float64 {
	tb.Helper()
	res, err := http.Get(admin + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	series := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		i := strings.LastIndexByte(line, ' ')
		if line == "" || line[0] == '#' || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			series[line[:i]] = v
		}
	}
	return series
}

// newGRPCClient is a gRPC client speaking cleartext HTTP/2 only, as gRPC
// clients do (testenv's clients fall back to HTTP/1.1, which nginx's gRPC
// port does not speak).
func newGRPCClient(base string) *testenv.Client {
	return testenv.NewClientAt(base, &http.Client{Transport: grpcTransport(http.DefaultTransport.(*http.Transport).Clone())}, connect.WithGRPC())
}

// grpcTransport makes t speak cleartext HTTP/2 only.
func grpcTransport(t *http.Transport) *http.Transport {
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
	return t
}
