package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// loginFrom logs victim in at now from a client, returning the session's
// principal and tokens.
func (ts *testService) loginFrom(tb testing.TB, now time.Time, userAgent, addr string) (Principal, Tokens) {
	tb.Helper()
	ts.now = func() time.Time { return now }
	return ts.loginWith(tb, WithClientAddr(WithUserAgent(context.Background(), userAgent), addr))
}

func TestListSessionsNewestFirst(t *testing.T) {
	ts := newTestService(t, 5)
	// Within the access tokens' lifetime, which their parsing checks.
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-10 * time.Minute)
	phone, _ := ts.loginFrom(t, t0, "Phone/1.0", "192.0.2.1")
	laptop, _ := ts.loginFrom(t, t0.Add(5*time.Minute), "Laptop/2.0", "2001:db8::1")
	list, err := ts.ListSessions(context.Background(), phone)
	if err != nil {
		t.Fatal(err)
	}
	want := []SessionInfo{
		{ID: laptop.SessionID, CreatedAt: t0.Add(5 * time.Minute), LastSeenAt: t0.Add(5 * time.Minute), UserAgent: "Laptop/2.0", Address: "2001:db8::1"},
		{ID: phone.SessionID, CreatedAt: t0, LastSeenAt: t0, UserAgent: "Phone/1.0", Address: "192.0.2.1", Current: true},
	}
	if !slices.Equal(list, want) {
		t.Fatalf("sessions\n%+v\nwant\n%+v", list, want)
	}
}

func TestSessionUserAgentIsCappedAndValid(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"OK", "Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)"},
		{"Empty", "", ""},
		{"CappedInCharacters", strings.Repeat("é", MaxUserAgent+10), strings.Repeat("é", MaxUserAgent)},
		{"InvalidUTF8Replaced", "curl\xff/8", "curl\uFFFD/8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := newSessionInfo(WithUserAgent(context.Background(), tc.in), "sid", time.Now()).UserAgent
			if got != tc.want || !utf8.ValidString(got) {
				t.Fatalf("user agent %q kept as %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRevokeSession(t *testing.T) {
	ctx := context.Background()
	ts := newTestService(t, 5)
	now := time.Now()
	current, _ := ts.loginFrom(t, now, "a", "")
	other, otherTokens := ts.loginFrom(t, now, "b", "")
	if _, err := ts.Register(ctx, "stranger", "stranger@example.com", "password-stranger"); err != nil {
		t.Fatal(err)
	}
	_, strangers, err := ts.Login(ctx, "stranger", "password-stranger")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := ts.Authenticate(ctx, strangers.Access)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("AnotherUsersSessionIsLeftAlone", func(t *testing.T) {
		if err := ts.RevokeSession(ctx, current, stranger.SessionID); err != nil {
			t.Fatalf("revoking another user's session: %v, want the answer for a gone one", err)
		}
		if _, err := ts.Authenticate(ctx, strangers.Access); err != nil {
			t.Fatalf("the stranger's session ended: %v", err)
		}
		if len(ts.ended.ids) != 0 {
			t.Fatalf("connections told to close: %v, want none", ts.ended.ids)
		}
	})
	t.Run("OwnOtherSession", func(t *testing.T) {
		if err := ts.RevokeSession(ctx, current, other.SessionID); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Authenticate(ctx, otherTokens.Access); !errors.Is(err, ErrBadToken) {
			t.Fatalf("the revoked session's access token: %v", err)
		}
		if _, err := ts.Refresh(ctx, otherTokens.Refresh); !errors.Is(err, ErrBadToken) {
			t.Fatalf("the revoked session's refresh token: %v", err)
		}
		if !slices.Equal(ts.ended.ids, []string{other.SessionID}) {
			t.Fatalf("connections told to close: %v, want the revoked session's", ts.ended.ids)
		}
	})
	t.Run("GoneSessionIsFine", func(t *testing.T) {
		if err := ts.RevokeSession(ctx, current, other.SessionID); err != nil {
			t.Fatal(err)
		}
		if err := ts.RevokeSession(ctx, current, "never-was"); err != nil {
			t.Fatal(err)
		}
		if len(ts.ended.ids) != 1 {
			t.Fatalf("connections told to close: %v, want only the first revocation's", ts.ended.ids)
		}
	})
}
