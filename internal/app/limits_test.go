package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// defaultLimits is a server env with the shipped rate limits, and
// 127.0.0.1 trusted to say, through X-Forwarded-For, which address a call
// comes from.
func defaultLimits(t *testing.T) testenv.Env {
	env := testenv.ServerEnv(t)
	for _, k := range []string{"PARLEY_LIMIT_LOGIN_ACCOUNT", "PARLEY_LIMIT_LOGIN_IP", "PARLEY_LIMIT_SEND", "PARLEY_LIMIT_CALLS"} {
		delete(env, k)
	}
	env["PARLEY_TRUSTED_PROXIES"] = "127.0.0.1/32"
	return env
}

// retryAfter checks an exhausted error carries the wait in words, header
// and RetryInfo detail.
func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	wantCode(t, err, connect.CodeResourceExhausted)
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Meta().Get("Retry-After") == "" {
		t.Fatalf("no Retry-After header on %v", err)
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if ri, ok := v.(*errdetails.RetryInfo); ok {
				return ri.GetRetryDelay().AsDuration()
			}
		}
	}
	t.Fatalf("no RetryInfo detail on %v", err)
	return 0
}

func TestFailedLoginsAreLimited(t *testing.T) {
	srv := testenv.Start(t, defaultLimits(t))
	owner := testenv.NewClient(srv, testenv.Protocols[0])
	owner.Signup(t, "victim")
	try := func(from, password string) error { return loginFrom(t, srv, from, "victim", password) }
	for i := range 5 {
		wantCode(t, try("203.0.113.7", fmt.Sprintf("guess %d", i)), connect.CodeUnauthenticated)
	}
	wait := retryAfter(t, try("203.0.113.7", "guess 6"))
	if wait < time.Minute || wait > 30*time.Minute {
		t.Fatalf("retry hint %s, want minutes", wait)
	}
	// Even the right password is refused from the guessing address…
	retryAfter(t, try("203.0.113.7", "password-victim"))
	// …while the owner, elsewhere, still logs in.
	if err := loginFrom(t, srv, "198.51.100.2", "victim", "password-victim"); err != nil {
		t.Fatalf("the legitimate user is locked out: %v", err)
	}
}

// loginFrom logs in as if from address from, through the trusted proxy
// header.
func loginFrom(t *testing.T, srv *testenv.Server, from, user, password string) error {
	t.Helper()
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Header = map[string]string{"X-Forwarded-For": from}
	_, err := c.Auth.Login(context.Background(), &chatv1.LoginRequest{Login: user, Password: password})
	return err
}

func TestFailedLoginsPerAddress(t *testing.T) {
	srv := testenv.Start(t, defaultLimits(t))
	for i := range 50 {
		err := loginFrom(t, srv, "192.0.2.9", fmt.Sprintf("user%d", i), "wrong password")
		wantCode(t, err, connect.CodeUnauthenticated)
	}
	retryAfter(t, loginFrom(t, srv, "192.0.2.9", "someone_else", "wrong password"))
}

func TestSendsAreThrottledAndRetriesNeverDouble(t *testing.T) {
	srv := testenv.Start(t, defaultLimits(t))
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(t, "chatty")
	c.Join(t, testenv.General)
	for i := range 10 {
		c.Send(t, testenv.General, fmt.Sprintf("burst %d", i), fmt.Sprintf("b%d", i))
	}
	_, err := c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: testenv.General, Body: "one too many", ClientMsgId: "extra"})
	wait := retryAfter(t, err)
	if wait <= 0 || wait > 2*time.Second {
		t.Fatalf("retry hint %s, want about a second", wait)
	}
	time.Sleep(wait + 50*time.Millisecond)
	first := c.Send(t, testenv.General, "one too many", "extra")
	if first.GetSeq() != 11 {
		t.Fatalf("retried send got seq %d, want 11", first.GetSeq())
	}
	if n := len(allMessages(t, c, testenv.General)); n != 11 {
		t.Fatalf("%d messages stored, want 11: the throttled send was stored or doubled", n)
	}
	// Another room has its own budget.
	room, err := c.Rooms.CreateRoom(context.Background(), &chatv1.CreateRoomRequest{Name: "quiet"})
	if err != nil {
		t.Fatal(err)
	}
	c.Send(t, room.GetRoom().GetId(), "fresh budget", "q1")
}

func TestCallsPerUserAreLimited(t *testing.T) {
	env := defaultLimits(t)
	env["PARLEY_LIMIT_CALLS"] = "20/10s"
	srv := testenv.Start(t, env)
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(t, "busy") // Register and Login: 2 calls from the address
	var err error
	for range 30 {
		if _, err = c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{}); err != nil {
			break
		}
	}
	retryAfter(t, err)
}
