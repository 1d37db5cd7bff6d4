package app_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

const testSecret = "a-test-signing-key-of-at-least-32-bytes"

// forgery builds access-token claims like chatd's, for a real session, that
// a test then spoils one way.
type forgery struct {
	sub, sid string
}

func (f forgery) claims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "parley", "aud": []string{"parley-api"}, "sub": f.sub, "sid": f.sid, "typ": "access",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	c[k] = v
	return c
}

// TestForgedTokensAreRefused: every kind of bad token is refused with one
// message on every protocol and on the WebSocket upgrade.
func TestForgedTokensAreRefused(t *testing.T) {
	env := testenv.ServerEnv(t)
	env["PARLEY_JWT_SECRET"] = testSecret
	srv := testenv.Start(t, env)
	victim := testenv.NewClient(srv, testenv.Protocols[0])
	login := victim.Signup(t, "victim")
	var parsed jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(login.GetAccessToken(), &parsed); err != nil {
		t.Fatal(err)
	}
	f := forgery{sub: parsed["sub"].(string), sid: parsed["sid"].(string)}
	key := []byte(testSecret)

	ended := testenv.NewClient(srv, testenv.Protocols[0])
	endedLogin, err := ended.Auth.Login(context.Background(), &chatv1.LoginRequest{Login: "victim", Password: "password-victim"})
	if err != nil {
		t.Fatal(err)
	}
	ended.Token = endedLogin.GetAccessToken()
	if _, err := ended.Auth.Logout(context.Background(), &chatv1.LogoutRequest{}); err != nil {
		t.Fatal(err)
	}

	parts := strings.Split(login.GetAccessToken(), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"sub":"`+f.sub, `"sub":"9`+f.sub, 1))) + "." + parts[2]

	tokens := map[string]string{
		"AlgNone":         sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, f.claims()),
		"OtherKey":        sign(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another-key!"), f.claims()),
		"OtherAlgorithm":  sign(t, jwt.SigningMethodHS512, key, f.claims()),
		"Expired":         sign(t, jwt.SigningMethodHS256, key, with(f.claims(), "exp", time.Now().Add(-time.Hour).Unix())),
		"NotYetValid":     sign(t, jwt.SigningMethodHS256, key, with(f.claims(), "nbf", time.Now().Add(time.Hour).Unix())),
		"WrongIssuer":     sign(t, jwt.SigningMethodHS256, key, with(f.claims(), "iss", "evil")),
		"WrongAudience":   sign(t, jwt.SigningMethodHS256, key, with(f.claims(), "aud", []string{"other-api"})),
		"NoExpiry":        sign(t, jwt.SigningMethodHS256, key, with(f.claims(), "exp", nil)),
		"NotAccessType":   sign(t, jwt.SigningMethodHS256, key, with(f.claims(), "typ", "refresh")),
		"RefreshAsAccess": login.GetRefreshToken(),
		"LoggedOut":       endedLogin.GetAccessToken(),
		"TamperedPayload": tampered,
		"Garbage":         "not.a.token",
	}
	const want = "invalid or expired token"
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			for _, p := range testenv.Protocols {
				c := testenv.NewClient(srv, p)
				c.Token = token
				_, err := c.Auth.GetMe(context.Background(), &chatv1.GetMeRequest{})
				wantCode(t, err, connect.CodeUnauthenticated)
				if !strings.HasSuffix(err.Error(), want) {
					t.Fatalf("%s: message %q, want %q", p.Name, err, want)
				}
			}
			h := http.Header{"Authorization": {"Bearer " + token}}
			conn, resp, err := websocket.DefaultDialer.Dial(strings.Replace(srv.URL, "http", "ws", 1)+"/ws", h)
			if err == nil {
				conn.Close()
				t.Fatal("the WebSocket upgrade accepted the token")
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("upgrade answered %v, want 401", resp)
			}
		})
	}
	// The real token still works: the refusals above are about the tokens.
	if _, err := victim.Auth.GetMe(context.Background(), &chatv1.GetMeRequest{}); err != nil {
		t.Fatalf("the genuine token was refused: %v", err)
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	ctx := context.Background()
	phone := testenv.NewClient(srv, testenv.Protocols[0])
	phone.Signup(t, "changer")
	laptop := testenv.NewClient(srv, testenv.Protocols[1])
	res, err := laptop.Auth.Login(ctx, &chatv1.LoginRequest{Login: "changer", Password: "password-changer"})
	if err != nil {
		t.Fatal(err)
	}
	laptop.Token = res.GetAccessToken()

	_, err = phone.Auth.ChangePassword(ctx, &chatv1.ChangePasswordRequest{CurrentPassword: "wrong", NewPassword: "a new password"})
	wantCode(t, err, connect.CodeUnauthenticated)
	if _, err := laptop.Auth.GetMe(ctx, &chatv1.GetMeRequest{}); err != nil {
		t.Fatalf("a failed change ended a session: %v", err)
	}
	if _, err := phone.Auth.ChangePassword(ctx, &chatv1.ChangePasswordRequest{CurrentPassword: "password-changer", NewPassword: "a new password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Auth.GetMe(ctx, &chatv1.GetMeRequest{}); err != nil {
		t.Fatalf("the session that changed the password ended: %v", err)
	}
	_, err = laptop.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
	wantCode(t, err, connect.CodeUnauthenticated)
	_, err = laptop.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: res.GetRefreshToken()})
	wantCode(t, err, connect.CodeUnauthenticated)
	_, err = laptop.Auth.Login(ctx, &chatv1.LoginRequest{Login: "changer", Password: "password-changer"})
	wantCode(t, err, connect.CodeUnauthenticated)
	if _, err := laptop.Auth.Login(ctx, &chatv1.LoginRequest{Login: "changer", Password: "a new password"}); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
}

// TestReplayedRefreshTokenEndsTheSession: a refresh token used a second
// time means a copy is in other hands (OAuth 2.0 Security BCP): the session
// ends at once. Its access token is refused on the next call, its live
// WebSocket is closed, the newest refresh token is refused too, and the
// user's other sessions are left alone.
func TestReplayedRefreshTokenEndsTheSession(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	ctx := context.Background()
	owner := testenv.NewClient(srv, testenv.Protocols[0])
	first := owner.Signup(t, "victim")
	other := testenv.NewClient(srv, testenv.Protocols[1])
	otherLogin, err := other.Auth.Login(ctx, &chatv1.LoginRequest{Login: "victim", Password: "password-victim"})
	if err != nil {
		t.Fatal(err)
	}
	other.Token = otherLogin.GetAccessToken()
	ws, _ := testenv.DialWS(t, srv.URL, first.GetAccessToken())

	rotated, err := owner.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: first.GetRefreshToken()})
	if err != nil {
		t.Fatal(err)
	}
	// The thief replays the token the owner has already rotated.
	_, err = testenv.NewClient(srv, testenv.Protocols[0]).Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: first.GetRefreshToken()})
	wantCode(t, err, connect.CodeUnauthenticated)

	for _, token := range []string{first.GetAccessToken(), rotated.GetAccessToken()} {
		c := testenv.NewClient(srv, testenv.Protocols[0])
		c.Token = token
		_, err := c.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
		wantCode(t, err, connect.CodeUnauthenticated)
	}
	if code := wsEndCode(t, ws, 5*time.Second); code != "unauthenticated" {
		t.Fatalf("the session's WebSocket ended with error %q, want unauthenticated", code)
	}
	_, err = owner.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: rotated.GetRefreshToken()})
	wantCode(t, err, connect.CodeUnauthenticated)
	if _, err := other.Auth.GetMe(ctx, &chatv1.GetMeRequest{}); err != nil {
		t.Fatalf("the user's other session ended too: %v", err)
	}
}

// wsEndCode reads until the socket closes and returns the code of the last
// error frame; it fails the test if the socket is still open after d.
func wsEndCode(t *testing.T, ws *testenv.WS, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	code := ""
	for time.Now().Before(deadline) {
		f, err := ws.TryNext(time.Until(deadline))
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			return code
		}
		if f.GetError() != nil {
			code = f.GetError().GetCode()
		}
	}
	t.Fatalf("the WebSocket is still open after %s", d)
	return ""
}
