package app_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/app"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/rpc"
	"github.com/parley-chat/parley/internal/testenv"
)

// webAppPaths are the kinds of answer the web app gives: the page, a deep
// link served index.html, and a file that does not exist.
var webAppPaths = []string{"/", "/chat/1", "/favicon.svg"}

// getHeaders fetches path from srv and returns the answer's headers.
func getHeaders(t *testing.T, srv *testenv.Server, path string) http.Header {
	t.Helper()
	res, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.Header
}

// cspDirectives splits a Content-Security-Policy into its directives.
func cspDirectives(policy string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		if f := strings.Fields(d); len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

func TestWebAppSecurityHeaders(t *testing.T) {
	cases := []struct {
		name, publicURL, wantSocket string
		wantHSTS                    bool
	}{
		{"NoPublicURL", "", "ws://{host}", false},
		{"HTTPPublicURL", "http://chat.example.com:8080", "ws://chat.example.com:8080", false},
		{"HTTPSPublicURL", "https://chat.example.com", "wss://chat.example.com", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.ServerEnv(t)
			env["PARLEY_PUBLIC_URL"] = tc.publicURL
			srv := testenv.Start(t, env)
			host := strings.TrimPrefix(srv.URL, "http://")
			for _, path := range webAppPaths {
				h := getHeaders(t, srv, path)
				csp := cspDirectives(h.Get("Content-Security-Policy"))
				for directive, want := range map[string]string{
					"default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
					"frame-ancestors": "'none'", "object-src": "'none'", "base-uri": "'none'",
				} {
					if got := strings.Join(csp[directive], " "); got != want {
						t.Errorf("%s: %s is %q, want only %q (no inline script or style)", path, directive, got, want)
					}
				}
				socket := strings.ReplaceAll(tc.wantSocket, "{host}", host)
				if !containsAll(csp["connect-src"], "'self'", socket) {
					t.Errorf("%s: connect-src %q does not allow /ws at %s", path, csp["connect-src"], socket)
				}
				if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("%s: X-Content-Type-Options %q", path, got)
				}
				if got := h.Get("Referrer-Policy"); got != "no-referrer" {
					t.Errorf("%s: Referrer-Policy %q", path, got)
				}
				hsts := h.Get("Strict-Transport-Security")
				if tc.wantHSTS != strings.HasPrefix(hsts, "max-age=31536000") {
					t.Errorf("%s: Strict-Transport-Security %q with PARLEY_PUBLIC_URL %q", path, hsts, tc.publicURL)
				}
			}
		})
	}
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestWebAppPolicyIgnoresStrangeHosts: a Host header that is not a host name
// adds nothing to the policy.
func TestWebAppPolicyIgnoresStrangeHosts(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example; script-src *"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "evil") || strings.Join(cspDirectives(csp)["script-src"], " ") != "'self'" {
		t.Fatalf("the Host header reached the policy: %q", csp)
	}
}

func TestPublicURLSetting(t *testing.T) {
	for _, bad := range []string{"chat.example.com", "ftp://chat.example.com", "https://", "://x"} {
		t.Run("Err"+bad, func(t *testing.T) {
			_, err := app.ParseConfig(nil, testenv.Env{"PARLEY_PUBLIC_URL": bad}.Getenv, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "PARLEY_PUBLIC_URL") {
				t.Fatalf("PARLEY_PUBLIC_URL=%q: err %v, want one naming the variable", bad, err)
			}
		})
	}
	c, err := app.ParseConfig([]string{"-public-url", "https://chat.example.com"}, testenv.Env{}.Getenv, io.Discard)
	if err != nil || c.PublicURL.String() != "https://chat.example.com" {
		t.Fatalf("-public-url: %v, %v", c.PublicURL, err)
	}
}

// cookieCall runs one call with the given request headers and returns the
// refresh cookies the answer sets, whether it succeeded or not.
func cookieCall(t *testing.T, header http.Header, call func(ctx context.Context) error) ([]*http.Cookie, error) {
	t.Helper()
	ctx, info := connect.NewClientContext(context.Background())
	for k, v := range header {
		info.RequestHeader()[k] = v
	}
	err := call(ctx)
	got := info.ResponseHeader()
	var ce *connect.Error
	if errors.As(err, &ce) {
		got = ce.Meta()
	}
	var out []*http.Cookie
	for _, line := range got.Values("Set-Cookie") {
		c, perr := http.ParseSetCookie(line)
		if perr != nil {
			t.Fatalf("Set-Cookie %q: %v", line, perr)
		}
		if c.Name == rpc.RefreshCookieName {
			out = append(out, c)
		}
	}
	return out, err
}

// wantRefreshCookies checks the answer set the web app's two cookies, one per
// path, with the same token, out of page script's and other sites' reach;
// maxAge < 0 means deleted. It returns the token.
func wantRefreshCookies(t *testing.T, cookies []*http.Cookie, maxAge int) string {
	t.Helper()
	paths := map[string]bool{}
	for _, c := range cookies {
		paths[c.Path] = true
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.MaxAge != maxAge || c.Value != cookies[0].Value {
			t.Errorf("cookie %q: HttpOnly %v, Secure %v, SameSite %v, MaxAge %d (want %d)", c.String(), c.HttpOnly, c.Secure, c.SameSite, c.MaxAge, maxAge)
		}
	}
	if len(cookies) != 2 || !paths["/chat.v1.AuthService/Refresh"] || !paths["/chat.v1.AuthService/Logout"] {
		t.Fatalf("want one refresh cookie for Refresh and one for Logout, got %v", cookies)
	}
	return cookies[0].Value
}

// webApp is the header the web app sends to keep its refresh token in cookies.
var webApp = http.Header{rpc.RefreshCookieHeader: {"1"}}

func withCookie(token string) http.Header {
	h := webApp.Clone()
	h.Set("Cookie", (&http.Cookie{Name: rpc.RefreshCookieName, Value: token}).String())
	return h
}

func TestRefreshCookie(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		c := testenv.NewClient(srv, p)
		name := "cookie_" + p.Name
		c.Signup(t, name)
		login := &chatv1.LoginRequest{Login: name, Password: "password-" + name}
		maxAge := int(auth.RefreshTTL / time.Second)

		t.Run("LoginWithoutHeaderSetsNone", func(t *testing.T) {
			var res *chatv1.LoginResponse
			cookies, err := cookieCall(t, nil, func(ctx context.Context) (err error) {
				res, err = c.Auth.Login(ctx, login)
				return err
			})
			if err != nil || len(cookies) != 0 || res.GetRefreshToken() == "" {
				t.Fatalf("API client login: cookies %v, body token %q, err %v", cookies, res.GetRefreshToken(), err)
			}
		})

		var token string
		t.Run("LoginSetsCookies", func(t *testing.T) {
			var res *chatv1.LoginResponse
			cookies, err := cookieCall(t, webApp, func(ctx context.Context) (err error) {
				res, err = c.Auth.Login(ctx, login)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			token = wantRefreshCookies(t, cookies, maxAge)
			if res.GetRefreshToken() != "" || res.GetAccessToken() == "" {
				t.Fatalf("web app login: body refresh token %q (want none), access token %q", res.GetRefreshToken(), res.GetAccessToken())
			}
		})

		var rotated string
		t.Run("RefreshFromCookieRotates", func(t *testing.T) {
			var res *chatv1.RefreshResponse
			cookies, err := cookieCall(t, withCookie(token), func(ctx context.Context) (err error) {
				res, err = c.Auth.Refresh(ctx, &chatv1.RefreshRequest{})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			rotated = wantRefreshCookies(t, cookies, maxAge)
			if rotated == token || res.GetRefreshToken() != "" || res.GetAccessToken() == "" {
				t.Fatalf("refresh: cookie %q after %q, body refresh token %q", rotated, token, res.GetRefreshToken())
			}
			c.Token = res.GetAccessToken()
			if _, err := c.Auth.GetMe(context.Background(), &chatv1.GetMeRequest{}); err != nil {
				t.Fatalf("the refreshed access token was refused: %v", err)
			}
		})

		t.Run("ErrEmptyBodyWithoutHeader", func(t *testing.T) {
			_, err := cookieCall(t, http.Header{"Cookie": withCookie(rotated)["Cookie"]}, func(ctx context.Context) error {
				_, err := c.Auth.Refresh(ctx, &chatv1.RefreshRequest{})
				return err
			})
			wantCode(t, err, connect.CodeInvalidArgument)
		})

		t.Run("ErrHeaderWithoutCookie", func(t *testing.T) {
			_, err := cookieCall(t, webApp, func(ctx context.Context) error {
				_, err := c.Auth.Refresh(ctx, &chatv1.RefreshRequest{})
				return err
			})
			wantCode(t, err, connect.CodeUnauthenticated)
		})

		t.Run("LogoutClearsCookies", func(t *testing.T) {
			cookies, err := cookieCall(t, withCookie(rotated), func(ctx context.Context) error {
				_, err := c.Auth.Logout(ctx, &chatv1.LogoutRequest{})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if v := wantRefreshCookies(t, cookies, -1); v != "" {
				t.Fatalf("logout left a value in the cookie: %q", v)
			}
			cookies, err = cookieCall(t, withCookie(rotated), func(ctx context.Context) error {
				_, err := c.Auth.Refresh(ctx, &chatv1.RefreshRequest{})
				return err
			})
			wantCode(t, err, connect.CodeUnauthenticated)
			wantRefreshCookies(t, cookies, -1) // a refused cookie is deleted too
		})
	})
}
