package app_test

import (
	"context"
	"encoding/base64"
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
