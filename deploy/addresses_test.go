package deploy_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// proxyNetwork is where nginx lives in these tests: it listens on and
// connects from 127.0.0.1, as in compose it does from the compose network.
// Clients come from other loopback addresses (Linux routes all of 127/8 to
// lo), as remote clients arrive with their own.
const proxyNetwork = "127.0.0.1/32"

// loginLimit is the failed-login limit per address here: small, and refilled
// so slowly (one per 6 minutes) that a spent limit stays spent while the
// test runs.
const loginLimit = 10

// TestProxyLimitsEachClient runs chatd with compose's PARLEY_TRUSTED_PROXIES
// (its network being loopback here) behind the nginx template: a stranger
// who spends the failed-login limit of their address locks out only that
// address, and cannot leave it by writing X-Forwarded-For.
func TestProxyLimitsEachClient(t *testing.T) {
	vars := dotenv(t, ".env.example")
	vars["NETWORK_SUBNET"] = proxyNetwork
	c, _, _ := loadComposeWith(t, vars)
	env := serverEnv(t)
	env["PARLEY_TRUSTED_PROXIES"] = c.Services[chatdServices(c)[0]].Environment["PARLEY_TRUSTED_PROXIES"]
	env["PARLEY_LIMIT_LOGIN_IP"] = fmt.Sprintf("%d/1h", loginLimit)
	a := testenv.StartProcess(t, env)
	b := testenv.StartProcess(t, env)
	px := startProxy(t, hostPort(a.URL), hostPort(b.URL))
	clientFrom(px, "127.0.0.3", false).Signup(t, "ada")
	const password = "password-ada" // Signup's

	guesser := clientFrom(px, "127.0.0.2", false)
	spendLoginLimit(t, guesser, "guesser")
	if err := login(guesser, "ada", password); testenv.CodeOf(err) != connect.CodeResourceExhausted {
		t.Fatalf("the guessing address logs in with a spent limit: %v", err)
	}

	t.Run("AnotherAddressLogsIn", func(t *testing.T) {
		if err := login(clientFrom(px, "127.0.0.3", false), "ada", password); err != nil {
			t.Fatalf("ada, from another address, is locked out by the guesser's failures: %v", err)
		}
	})

	t.Run("ForgedForwardedForStaysLimited", func(t *testing.T) {
		for _, grpc := range []bool{false, true} {
			for _, forged := range []string{"127.0.0.9", "127.0.0.9, 127.0.0.1", "127.0.0.1"} {
				c := clientFrom(px, "127.0.0.2", grpc)
				c.Header = map[string]string{"X-Forwarded-For": forged}
				if err := login(c, "ada", password); testenv.CodeOf(err) != connect.CodeResourceExhausted {
					t.Errorf("gRPC %v, X-Forwarded-For %q: the guesser escaped its limit: %v", grpc, forged, err)
				}
			}
		}
	})

	// Connections Docker's userland proxy forwards to nginx (from the Docker
	// host itself, for one) come from the network's gateway, an address
	// inside the trusted subnet; here that is a client on 127.0.0.1.
	t.Run("ForgedFromInsideTheTrustedNetwork", func(t *testing.T) {
		inside := clientFrom(px, "127.0.0.1", false)
		spendLoginLimit(t, inside, "inside")
		inside.Header = map[string]string{"X-Forwarded-For": "127.0.0.10"}
		if err := login(inside, "ada", password); testenv.CodeOf(err) != connect.CodeResourceExhausted {
			t.Fatalf("a client on the proxy's network chose its address with X-Forwarded-For: %v", err)
		}
	})
}

// clientFrom is a client of the proxy whose connections leave from the
// loopback address ip: Connect on the HTTP port, or gRPC on the HTTP/2 one.
func clientFrom(px *proxy, ip string, grpc bool) *testenv.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext
	if grpc {
		return testenv.NewClientAt(px.GRPC, &http.Client{Transport: grpcTransport(tr)}, connect.WithGRPC())
	}
	return testenv.NewClientAt(px.HTTP, &http.Client{Transport: tr})
}

func login(c *testenv.Client, user, password string) error {
	_, err := c.Auth.Login(context.Background(), &chatv1.LoginRequest{Login: user, Password: password})
	return err
}

// spendLoginLimit fails logins for made-up accounts from c until its
// address is refused, and checks that took the whole limit (fewer means
// someone else's failures were counted against it).
func spendLoginLimit(t *testing.T, c *testenv.Client, tag string) {
	t.Helper()
	for i := 0; i <= 2*loginLimit; i++ {
		err := login(c, fmt.Sprintf("nobody_%s_%d", tag, i), "wrong password")
		switch testenv.CodeOf(err) {
		case connect.CodeUnauthenticated:
			continue
		case connect.CodeResourceExhausted:
			if i < loginLimit {
				t.Fatalf("refused after %d failed logins, want %d: other clients' failures counted against this address", i, loginLimit)
			}
			return
		default:
			t.Fatalf("failed login %d: %v", i, err)
		}
	}
	t.Fatalf("%d failed logins from one address and no limit", 2*loginLimit+1)
}
