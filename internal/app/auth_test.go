package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// forEachProtocol runs f once per wire protocol against one shared server.
func forEachProtocol(t *testing.T, f func(t *testing.T, srv *testenv.Server, p testenv.Protocol)) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	for _, p := range testenv.Protocols {
		t.Run(p.Name, func(t *testing.T) { f(t, srv, p) })
	}
}

func wantCode(t *testing.T, err error, want connect.Code) {
	t.Helper()
	if got := testenv.CodeOf(err); got != want {
		t.Fatalf("got code %v (%v), want %v", got, err, want)
	}
}

func TestRegister(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		name := "reg_" + p.Name
		res, err := c.Auth.Register(ctx, &chatv1.RegisterRequest{Username: name, Email: name + "@example.com", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		if u := res.GetUser(); u.GetUsername() != name || u.GetId() == 0 || u.GetEmail() != name+"@example.com" {
			t.Fatalf("registered user = %v", u)
		}
		cases := []struct {
			name string
			req  *chatv1.RegisterRequest
			code connect.Code
			msg  string
		}{
			{"ErrUsernameTakenIgnoringCase", &chatv1.RegisterRequest{Username: strings.ToUpper(name), Email: "other_" + name + "@example.com", Password: "password1"}, connect.CodeAlreadyExists, "username is taken"},
			{"ErrEmailTaken", &chatv1.RegisterRequest{Username: name + "2", Email: name + "@example.com", Password: "password1"}, connect.CodeAlreadyExists, "email is already registered"},
			{"ErrUsernameTooShort", &chatv1.RegisterRequest{Username: "ab", Email: "ab@example.com", Password: "password1"}, connect.CodeInvalidArgument, "username"},
			{"ErrUsernameBadChars", &chatv1.RegisterRequest{Username: "bad-name!", Email: "bad@example.com", Password: "password1"}, connect.CodeInvalidArgument, "username"},
			{"ErrUsernameTooLong", &chatv1.RegisterRequest{Username: strings.Repeat("a", 33), Email: "long@example.com", Password: "password1"}, connect.CodeInvalidArgument, "username"},
			{"ErrEmailInvalid", &chatv1.RegisterRequest{Username: name + "3", Email: "not-an-email", Password: "password1"}, connect.CodeInvalidArgument, "email"},
			{"ErrPasswordTooShort", &chatv1.RegisterRequest{Username: name + "4", Email: name + "4@example.com", Password: "short"}, connect.CodeInvalidArgument, "password"},
			{"ErrPasswordTooLong", &chatv1.RegisterRequest{Username: name + "5", Email: name + "5@example.com", Password: strings.Repeat("p", 129)}, connect.CodeInvalidArgument, "password"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := c.Auth.Register(ctx, tc.req)
				wantCode(t, err, tc.code)
				if !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("message %q does not mention %q", err, tc.msg)
				}
			})
		}
		// None of the refused registrations left an account behind.
		_, err = c.Auth.Login(ctx, &chatv1.LoginRequest{Login: name + "2", Password: "password1"})
		wantCode(t, err, connect.CodeUnauthenticated)
	})
}

func TestLogin(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		name := "login_" + p.Name
		c.Signup(t, name)
		for _, login := range []string{name, name + "@example.com", strings.ToUpper(name)} {
			res, err := c.Auth.Login(ctx, &chatv1.LoginRequest{Login: login, Password: "password-" + name})
			if err != nil {
				t.Fatalf("login as %q: %v", login, err)
			}
			if res.GetAccessToken() == "" || res.GetRefreshToken() == "" || res.GetUser().GetUsername() != name {
				t.Fatalf("login response = %v", res)
			}
			if ttl := time.Until(res.GetAccessExpiresAt().AsTime()); ttl < 14*time.Minute || ttl > 16*time.Minute {
				t.Fatalf("access token lives %s, want 15 minutes", ttl)
			}
		}
		_, wrongPassword := c.Auth.Login(ctx, &chatv1.LoginRequest{Login: name, Password: "wrong password"})
		_, unknownUser := c.Auth.Login(ctx, &chatv1.LoginRequest{Login: "nobody_" + p.Name, Password: "wrong password"})
		wantCode(t, wrongPassword, connect.CodeUnauthenticated)
		wantCode(t, unknownUser, connect.CodeUnauthenticated)
		if wrongPassword.Error() != unknownUser.Error() {
			t.Fatalf("messages differ: %q vs %q", wrongPassword, unknownUser)
		}
	})
}

func TestLoginTakesAsLongForUnknownAccounts(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(t, "timing")
	once := func(login string) time.Duration {
		start := time.Now()
		_, _ = c.Auth.Login(context.Background(), &chatv1.LoginRequest{Login: login, Password: "wrong password"})
		return time.Since(start)
	}
	// Alternating the two and comparing medians keeps the comparison fair
	// when other tests load the machine meanwhile.
	const n = 11
	var known, unknown []time.Duration
	for range n {
		known = append(known, once("timing"))
		unknown = append(unknown, once("nobody"))
	}
	k, u := median(known), median(unknown)
	if ratio := float64(u) / float64(k); ratio < 0.5 || ratio > 2 {
		t.Fatalf("wrong password takes %s, unknown account %s (medians of %d): an attacker can tell accounts apart", k, u, n)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestRefreshRotates(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		login := c.Signup(t, "refresh_"+p.Name)
		res, err := c.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: login.GetRefreshToken()})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetRefreshToken() == login.GetRefreshToken() || res.GetAccessToken() == "" {
			t.Fatalf("refresh did not rotate: %v", res)
		}
		c.Token = res.GetAccessToken()
		if _, err := c.Auth.GetMe(ctx, &chatv1.GetMeRequest{}); err != nil {
			t.Fatalf("new access token refused: %v", err)
		}
		_, err = c.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: login.GetRefreshToken()})
		wantCode(t, err, connect.CodeUnauthenticated)
		_, err = c.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: "garbage"})
		wantCode(t, err, connect.CodeUnauthenticated)
	})
}

func TestLogoutEndsSessionAtOnce(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		login := c.Signup(t, "logout_"+p.Name)
		other := testenv.NewClient(srv, p)
		second, err := other.Auth.Login(ctx, &chatv1.LoginRequest{Login: "logout_" + p.Name, Password: "password-logout_" + p.Name})
		if err != nil {
			t.Fatal(err)
		}
		other.Token = second.GetAccessToken()
		if _, err := c.Auth.GetMe(ctx, &chatv1.GetMeRequest{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Auth.Logout(ctx, &chatv1.LogoutRequest{}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
		wantCode(t, err, connect.CodeUnauthenticated)
		_, err = c.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: login.GetRefreshToken()})
		wantCode(t, err, connect.CodeUnauthenticated)
		if _, err := other.Auth.GetMe(ctx, &chatv1.GetMeRequest{}); err != nil {
			t.Fatalf("the user's other session ended too: %v", err)
		}
	})
}

func TestGetMe(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		_, err := c.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
		wantCode(t, err, connect.CodeUnauthenticated)
		c.Token = "not-a-jwt"
		_, err = c.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
		wantCode(t, err, connect.CodeUnauthenticated)
		c.Signup(t, "me_"+p.Name)
		res, err := c.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetUser().GetEmail() != "me_"+p.Name+"@example.com" {
			t.Fatalf("GetMe = %v, want own email", res.GetUser())
		}
	})
}
