package deploy_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestProxyTopology runs what compose.yaml runs, without containers: two
// chatd processes sharing one MySQL database and Redis prefix, behind nginx
// with the template compose mounts, and clients that only know the proxy.
func TestProxyTopology(t *testing.T) {
	env := serverEnv(t)
	env["PARLEY_ADMIN_ADDR"] = "127.0.0.1:0"
	a := testenv.StartProcess(t, env)
	b := testenv.StartProcess(t, env)
	px := startProxy(t, hostPort(a.URL), hostPort(b.URL))
	front := &testenv.Server{URL: px.HTTP}

	// Every protocol a client may speak goes through the proxy: Connect
	// with JSON (what curl and browsers' fetch send), Connect and gRPC-Web
	// on the HTTP port, gRPC on the HTTP/2 port.
	protocols := []struct {
		name   string
		client func() *testenv.Client
	}{
		{"ConnectJSON", func() *testenv.Client {
			return testenv.NewClient(front, testenv.Protocol{Name: "connect-json", Opts: []connect.ClientOption{connect.WithProtoJSON()}})
		}},
		{"Connect", func() *testenv.Client { return testenv.NewClient(front, testenv.Protocols[0]) }},
		{"GRPCWeb", func() *testenv.Client { return testenv.NewClient(front, testenv.Protocols[2]) }},
		{"GRPC", func() *testenv.Client { return newGRPCClient(px.GRPC) }},
	}
	clients := map[string]*testenv.Client{}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := p.client()
			name := "via_" + strings.ToLower(p.name)
			c.Signup(t, name)
			c.Join(t, testenv.General)
			m := c.Send(t, testenv.General, "hello from "+name, name+"-1")
			if m.GetBody() != "hello from "+name || m.GetSeq() == 0 {
				t.Fatalf("sent message = %v", m)
			}
			res, err := c.Messages.ListMessages(context.Background(), &chatv1.ListMessagesRequest{RoomId: testenv.General})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GetMessages()) == 0 {
				t.Fatal("history through the proxy is empty")
			}
			clients[p.name] = c
		})
	}
	if t.Failed() {
		t.FailNow()
	}

	t.Run("WebSocketGetsMessagesOfBothReplicas", func(t *testing.T) {
		alice := clients["ConnectJSON"]
		// A browser's upgrade: Origin is the proxy's own address, which the
		// origin check accepts only if the proxy kept the Host header.
		ws := dialWS(t, px.HTTP, alice.Token, px.HTTP)
		// The socket landed on one replica; one message goes in through
		// each, so one of them certainly crossed replicas.
		for i, srv := range []*testenv.Server{a, b} {
			c := testenv.NewClient(srv, testenv.Protocols[0])
			c.Token = clients["Connect"].Token
			body := []string{"through A", "through B"}[i]
			c.Send(t, testenv.General, body, fmt.Sprintf("replica-%d", i))
			got := ws.messagesUntil(body)
			if got[len(got)-1].body != body {
				t.Fatalf("got %v", got)
			}
		}
	})

	t.Run("BothReplicasServed", func(t *testing.T) {
		for name, srv := range map[string]*testenv.Server{"A": a, "B": b} {
			m := scrape(t, srv.AdminURL(t))
			if n := m[`parley_rpc_requests_total{code="ok",procedure="/chat.v1.AuthService/Register"}`]; n < 1 {
				t.Errorf("replica %s served no Register through the round robin", name)
			}
		}
	})

	t.Run("HealthCheckProgram", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "healthcheck")
		build := exec.Command("go", "build", "-o", bin, "./deploy/healthcheck")
		build.Dir = testenv.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		run := func(addr string, args ...string) error {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "PARLEY_ADDR="+addr)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Logf("healthcheck %s %v: %s", addr, args, out)
			}
			return err
		}
		for _, path := range [][]string{nil, {"/healthz"}, {"/readyz"}} {
			if err := run(hostPort(a.URL), path...); err != nil {
				t.Errorf("healthcheck %v against a running chatd: %v", path, err)
			}
		}
		if err := run(freeAddr(t)); err == nil {
			t.Error("healthcheck passed with nothing listening")
		}
	})
}
