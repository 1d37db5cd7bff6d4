package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	// 50 per 5 minutes: a burst of 50, then one more every 6 s. Logins are
	// slow on purpose (argon2id), so the bucket may refill a little while
	// the test runs; the allowance counts that in.
	const burst, refill = 50, 6 * time.Second
	start := time.Now()
	for i := 0; ; i++ {
		err := loginFrom(t, srv, "192.0.2.9", fmt.Sprintf("user%d", i), "wrong password")
		if testenv.CodeOf(err) == connect.CodeResourceExhausted {
			retryAfter(t, err)
			allowed := burst + int(time.Since(start)/refill) + 1
			if i < burst || i > allowed {
				t.Fatalf("refused after %d failures, want between %d and %d", i, burst, allowed)
			}
			return
		}
		wantCode(t, err, connect.CodeUnauthenticated)
		if i > 2*burst {
			t.Fatalf("%d failed logins from one address and no limit", i)
		}
	}
}

func TestSendsAreThrottledAndRetriesNeverDouble(t *testing.T) {
	srv := testenv.Start(t, defaultLimits(t))
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(t, "chatty")
	c.Join(t, testenv.General)
	// A burst of 10, then one a second; the allowance counts what refilled
	// while a loaded machine ran the burst.
	start := time.Now()
	var err error
	sent := 0
	for ; sent <= 40; sent++ {
		_, err = c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: testenv.General, Body: fmt.Sprintf("burst %d", sent), ClientMsgId: fmt.Sprintf("b%d", sent)})
		if err != nil {
			break
		}
	}
	wait := retryAfter(t, err)
	if allowed := 10 + int(time.Since(start)/time.Second) + 1; sent < 10 || sent > allowed {
		t.Fatalf("throttled after %d sends, want between 10 and %d", sent, allowed)
	}
	if wait <= 0 || wait > 2*time.Second {
		t.Fatalf("retry hint %s, want about a second", wait)
	}
	// The throttled send, retried with the same client id after the hint,
	// is stored once.
	time.Sleep(wait + 50*time.Millisecond)
	retried := c.Send(t, testenv.General, fmt.Sprintf("burst %d", sent), fmt.Sprintf("b%d", sent))
	if retried.GetSeq() != int64(sent+1) {
		t.Fatalf("retried send got seq %d, want %d", retried.GetSeq(), sent+1)
	}
	if n := len(allMessages(t, c, testenv.General)); n != sent+1 {
		t.Fatalf("%d messages stored, want %d: the throttled send was stored or doubled", n, sent+1)
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
	c.Signup(t, "busy") // counted against the address, not the user
	start := time.Now()
	var err error
	calls := 0
	for ; calls <= 100; calls++ {
		if _, err = c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{}); err != nil {
			break
		}
	}
	retryAfter(t, err)
	if allowed := 20 + int(time.Since(start)/(500*time.Millisecond)) + 1; calls < 20 || calls > allowed {
		t.Fatalf("limited after %d calls, want between 20 and %d", calls, allowed)
	}
}

// TestLoginVariantsCountAsOneAccount: every spelling that logs into an
// account counts against it, so guesses spread over spellings are limited
// like guesses with one.
func TestLoginVariantsCountAsOneAccount(t *testing.T) {
	srv := testenv.Start(t, defaultLimits(t))
	owner := testenv.NewClient(srv, testenv.Protocols[0])
	owner.Signup(t, "victim")
	// MySQL's collation ignores case, accents, width and zero-width
	// characters, and the lookup trims: each of these is victim.
	variants := []string{" victim", "victim\n", "VICTIM@EXAMPLE.COM", "víctim", "ｖｉｃｔｉｍ", "vic\u200btim"}
	for i, login := range variants {
		if err := loginFrom(t, srv, fmt.Sprintf("198.51.100.%d", 10+i), login, "password-victim"); err != nil {
			t.Fatalf("login %q does not log into victim: %v", login, err)
		}
	}
	// Five wrong guesses (the limit), each with another spelling.
	for i, login := range variants[:5] {
		wantCode(t, loginFrom(t, srv, "203.0.113.7", login, fmt.Sprintf("guess %d", i)), connect.CodeUnauthenticated)
	}
	retryAfter(t, loginFrom(t, srv, "203.0.113.7", variants[5], "guess 6"))
	// The account is spent from that address, whatever the spelling, even
	// for the right password…
	for _, login := range append(variants, "victim") {
		retryAfter(t, loginFrom(t, srv, "203.0.113.7", login, "password-victim"))
	}
	// …while the owner, elsewhere, still logs in.
	if err := loginFrom(t, srv, "198.51.100.2", "victim", "password-victim"); err != nil {
		t.Fatalf("the legitimate user is locked out: %v", err)
	}
}

// TestConcurrentWrongLoginsAreRefusedBeforeTheHash: 100 wrong logins at once
// on one account from one address. The attempt is recorded before the
// password is hashed, so only the limit's worth are checked (answered
// unauthenticated); every other one is refused unchecked.
func TestConcurrentWrongLoginsAreRefusedBeforeTheHash(t *testing.T) {
	env := defaultLimits(t)
	env["PARLEY_LIMIT_CALLS"] = "100000/100s" // only the login limits apply
	srv := testenv.Start(t, env)
	testenv.NewClient(srv, testenv.Protocols[0]).Signup(t, "victim")
	const guesses, limit = 100, 5 // PARLEY_LIMIT_LOGIN_ACCOUNT's default burst
	codes := make([]connect.Code, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			codes[i] = testenv.CodeOf(loginFrom(t, srv, "203.0.113.7", "victim", fmt.Sprintf("guess %d", i)))
		})
	}
	wg.Wait()
	count := map[connect.Code]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[connect.CodeUnauthenticated] > limit || count[connect.CodeResourceExhausted] != guesses-count[connect.CodeUnauthenticated] {
		t.Fatalf("answers %v: want at most %d checked (unauthenticated), every other one resource_exhausted", count, limit)
	}
	t.Logf("%d of %d concurrent guesses reached the password hash", count[connect.CodeUnauthenticated], guesses)
}

// TestFailedLoginsAreLoggedWithTheAddress: a wrong password and a refused
// attempt each log one INFO line with the client's address (the one the
// limits count, from the trusted proxy's X-Forwarded-For) in the shape a
// fail2ban filter matches; the password is never logged.
func TestFailedLoginsAreLoggedWithTheAddress(t *testing.T) {
	env := defaultLimits(t)
	env["PARLEY_LIMIT_LOGIN_ACCOUNT"] = "1/1h"
	srv := testenv.Start(t, env)
	testenv.NewClient(srv, testenv.Protocols[0]).Signup(t, "victim")
	wantCode(t, loginFrom(t, srv, "203.0.113.77", "victim", "secret guess 1"), connect.CodeUnauthenticated)
	waitLogLine(t, srv, `"level":"INFO","msg":"login failed","client_ip":"203.0.113.77","outcome":"bad_credentials"`)
	retryAfter(t, loginFrom(t, srv, "203.0.113.77", "victim", "secret guess 2"))
	waitLogLine(t, srv, `"level":"INFO","msg":"login failed","client_ip":"203.0.113.77","outcome":"limited"`)
	for _, line := range srv.Logs.Lines() {
		if strings.Contains(line, "secret guess") {
			t.Fatalf("a password was logged: %s", line)
		}
	}
}

// waitLogLine waits for a log line containing want.
func waitLogLine(t *testing.T, srv *testenv.Server, want string) {
	t.Helper()
	if !srv.Logs.Wait(want, 5*time.Second) {
		t.Fatalf("no log line with %s in:\n%s", want, strings.Join(srv.Logs.Lines(), "\n"))
	}
}

// TestChangePasswordGuessingIsLimited: with a stolen access token, the
// current password cannot be guessed: after the limit of wrong ones even the
// right one is refused, until the window lets one more through.
func TestChangePasswordGuessingIsLimited(t *testing.T) {
	env := defaultLimits(t)
	// A window short enough to wait out, and long enough (one attempt back
	// every 5 s) that a loaded machine cannot refill it between the guesses.
	env["PARLEY_LIMIT_PASSWORD_CHANGE"] = "3/15s"
	srv := testenv.Start(t, env)
	thief := testenv.NewClient(srv, testenv.Protocols[0])
	thief.Signup(t, "victim")
	thief.Header = map[string]string{"X-Forwarded-For": "203.0.113.8"}
	change := func(current string) error {
		_, err := thief.Auth.ChangePassword(context.Background(), &chatv1.ChangePasswordRequest{CurrentPassword: current, NewPassword: "taken over at last"})
		return err
	}
	for i := range 3 {
		wantCode(t, change(fmt.Sprintf("guess %d", i)), connect.CodeUnauthenticated)
	}
	wait := retryAfter(t, change("password-victim"))
	waitLogLine(t, srv, `"msg":"password change failed","client_ip":"203.0.113.8","outcome":"limited"`)
	if err := loginFrom(t, srv, "198.51.100.2", "victim", "password-victim"); err != nil {
		t.Fatalf("the refused change changed the password: %v", err)
	}
	time.Sleep(wait + 50*time.Millisecond) // the window, from the server's own hint
	if err := change("password-victim"); err != nil {
		t.Fatalf("the right password after the window: %v", err)
	}
}
