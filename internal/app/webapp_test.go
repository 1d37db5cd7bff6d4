package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/app"
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
