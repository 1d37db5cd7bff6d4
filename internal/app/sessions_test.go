package app_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// deviceClient is a client of srv over p from the loopback address addr with the
// User-Agent agent, as a second computer of the same person would be.
func deviceClient(srv *testenv.Server, p testenv.Protocol, addr, agent string) *testenv.Client {
	c := testenv.NewClientAt(srv.URL, testenv.HTTPClientFrom(addr), p.Opts...)
	c.Header = map[string]string{"User-Agent": agent}
	return c
}

// loginDevice logs an existing user (of Signup's password) in on c.
func loginDevice(t *testing.T, c *testenv.Client, name string) *chatv1.LoginResponse {
	t.Helper()
	res, err := c.Auth.Login(context.Background(), &chatv1.LoginRequest{Login: name, Password: "password-" + name})
	if err != nil {
		t.Fatal(err)
	}
	c.Token = res.GetAccessToken()
	return res
}

func listSessions(t *testing.T, c *testenv.Client) []*chatv1.Session {
	t.Helper()
	res, err := c.Auth.ListSessions(context.Background(), &chatv1.ListSessionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetSessions()
}

func TestListSessions(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		name := "devices_" + p.Name
		before := time.Now().Add(-time.Second)
		phone := deviceClient(srv, p, "127.0.0.1", "Phone/1.0 "+p.Name)
		phone.Signup(t, name)
		laptop := deviceClient(srv, p, "127.0.0.2", "Laptop/2.0 "+p.Name)
		loginDevice(t, laptop, name)

		got := listSessions(t, phone)
		if len(got) != 2 {
			t.Fatalf("%d sessions, want 2: %v", len(got), got)
		}
		want := []struct {
			agent, addr string
			current     bool
		}{{"Laptop/2.0 " + p.Name, "127.0.0.2", false}, {"Phone/1.0 " + p.Name, "127.0.0.1", true}}
		for i, w := range want {
			s := got[i]
			if s.GetUserAgent() != w.agent || s.GetAddress() != w.addr || s.GetCurrent() != w.current || s.GetId() == "" {
				t.Fatalf("session %d (newest first) = %v, want %s from %s, current %v", i, s, w.agent, w.addr, w.current)
			}
			created, seen := s.GetCreatedAt().AsTime(), s.GetLastSeenAt().AsTime()
			if created.Before(before) || created.After(time.Now()) || seen.Before(created) {
				t.Fatalf("session %d created %s, last seen %s; want since %s", i, created, seen, before)
			}
		}
		if got[0].GetCreatedAt().AsTime().Before(got[1].GetCreatedAt().AsTime()) {
			t.Fatalf("sessions are not newest first: %v", got)
		}
		other := listSessions(t, laptop)
		if len(other) != 2 || !other[0].GetCurrent() || other[1].GetCurrent() || other[0].GetId() != got[0].GetId() {
			t.Fatalf("the laptop lists %v, want the same two with itself current", other)
		}
	})
}

// TestRevokeSession: revoking a device ends it at once on every process:
// its access and refresh tokens are refused and its sockets, here on both
// processes, close with Logout's error frame. Another user's session id
// changes nothing and is answered like a gone one; revoking the current
// session logs out.
func TestRevokeSession(t *testing.T) {
	env := testenv.ServerEnv(t)
	one, two := testenv.Start(t, env), testenv.Start(t, env)
	for _, p := range testenv.Protocols {
		t.Run(p.Name, func(t *testing.T) {
			ctx := context.Background()
			name := "revoker_" + p.Name
			phone := deviceClient(one, p, "127.0.0.1", "Phone")
			phone.Signup(t, name)
			laptop := deviceClient(one, p, "127.0.0.2", "Laptop")
			laptopLogin := loginDevice(t, laptop, name)
			nearWS, _ := testenv.DialWS(t, one.URL, laptopLogin.GetAccessToken())
			farWS, _ := testenv.DialWS(t, two.URL, laptopLogin.GetAccessToken())
			room := newRoom(t, phone, "devices "+p.Name, chatv1.Visibility_VISIBILITY_PRIVATE)
			phoneWS, _ := testenv.DialWS(t, two.URL, phone.Token)
			stranger := testenv.NewClient(two, p)
			stranger.Signup(t, "stranger_"+p.Name)
			sessions := listSessions(t, phone)
			laptopID, phoneID := sessions[0].GetId(), sessions[1].GetId()

			t.Run("AnotherUsersSessionIsLeftAlone", func(t *testing.T) {
				if _, err := stranger.Auth.RevokeSession(ctx, &chatv1.RevokeSessionRequest{SessionId: phoneID}); err != nil {
					t.Fatalf("revoking another user's session: %v, want the answer for a gone one", err)
				}
				if got := listSessions(t, phone); len(got) != 2 {
					t.Fatalf("the owner lists %v, want both sessions", got)
				}
			})
			if _, err := phone.Auth.RevokeSession(ctx, &chatv1.RevokeSessionRequest{SessionId: laptopID}); err != nil {
				t.Fatal(err)
			}
			_, err := laptop.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
			wantCode(t, err, connect.CodeUnauthenticated)
			_, err = laptop.Auth.Refresh(ctx, &chatv1.RefreshRequest{RefreshToken: laptopLogin.GetRefreshToken()})
			wantCode(t, err, connect.CodeUnauthenticated)
			for where, ws := range map[string]*testenv.WS{"the same process": nearWS, "another process": farWS} {
				if code := wsEndCode(t, ws, 5*time.Second); code != "unauthenticated" {
					t.Fatalf("the revoked session's WebSocket on %s ended with error %q, want unauthenticated", where, code)
				}
			}
			if got := listSessions(t, phone); len(got) != 1 || got[0].GetId() != phoneID {
				t.Fatalf("after the revocation the phone lists %v, want only itself", got)
			}
			if _, err := phone.Auth.RevokeSession(ctx, &chatv1.RevokeSessionRequest{SessionId: laptopID}); err != nil {
				t.Fatalf("revoking a gone session again: %v", err)
			}
			// The phone's socket on two, where the laptop's closed, still
			// delivers.
			seq := phone.Send(t, room, "still here", "after-revoke").GetSeq()
			nextEvents(t, phoneWS, isMessage(room, seq))
			if _, err := phone.Auth.GetMe(ctx, &chatv1.GetMeRequest{}); err != nil {
				t.Fatalf("the revoking session ended: %v", err)
			}

			t.Run("CurrentIsLogout", func(t *testing.T) {
				if _, err := phone.Auth.RevokeSession(ctx, &chatv1.RevokeSessionRequest{SessionId: phoneID}); err != nil {
					t.Fatal(err)
				}
				_, err := phone.Auth.GetMe(ctx, &chatv1.GetMeRequest{})
				wantCode(t, err, connect.CodeUnauthenticated)
				if code := wsEndCode(t, phoneWS, 5*time.Second); code != "unauthenticated" {
					t.Fatalf("the phone's WebSocket ended with error %q, want unauthenticated", code)
				}
			})
		})
	}
}
