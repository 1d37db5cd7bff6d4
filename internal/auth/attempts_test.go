package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

func TestNormalizeLogin(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"Plain", "victim", "victim"},
		{"LeadingSpace", " victim", "victim"},
		{"TrailingNewline", "victim\n", "victim"},
		{"IdeographicSpace", "\u3000victim\u3000", "victim"},
		{"UpperCaseEmail", "VICTIM@EXAMPLE.COM", "victim@example.com"},
		{"FullWidth", "ｖｉｃｔｉｍ", "victim"},
		{"FullWidthUpper", "ＶＩＣＴＩＭ", "victim"},
		{"Ligature", "ﬁsh", "fish"},
		{"SharpS", "STRAẞE", "strasse"},
		// Accents are the database's to match: removing them here would
		// merge logins it keeps apart.
		{"Accented", "VÍCTIM", "víctim"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NormalizeLogin(tc.in); got != tc.want {
				t.Fatalf("NormalizeLogin(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestConcurrentGuessesReachTheHashAtMostLimitTimes: 100 wrong logins at
// once on one account from one address; the attempt is reserved before the
// hash, so only the limit's worth are hashed and the rest are refused.
func TestConcurrentGuessesReachTheHashAtMostLimitTimes(t *testing.T) {
	const limit, guesses = 5, 100
	s := newTestService(t, limit)
	ctx := WithClientAddr(context.Background(), "203.0.113.7")
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for range guesses {
		wg.Go(func() {
			_, _, err := s.Login(ctx, "victim", "a wrong guess")
			var limited *LimitedError
			outcome := "other: " + errString(err)
			switch {
			case errors.As(err, &limited) && limited.Wait > 0:
				outcome = "limited"
			case errors.Is(err, ErrBadCredentials):
				outcome = "wrong"
			}
			mu.Lock()
			outcomes[outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := s.hashes.verified.Load(); n > limit {
		t.Errorf("%d of %d concurrent guesses reached the password hash, want at most %d", n, guesses, limit)
	}
	if outcomes["wrong"] != limit || outcomes["limited"] != guesses-limit {
		t.Errorf("answers %v, want %d wrong-password and %d limited", outcomes, limit, guesses-limit)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestLoginAttemptsCount: what each login counts against, and what a success
// gives back.
func TestLoginAttemptsCount(t *testing.T) {
	s := newTestService(t, 10)
	from := WithClientAddr(context.Background(), "192.0.2.1")
	victim := "acct:" + accountOf(s.victim.ID, "") + "@192.0.2.1"
	t.Run("EveryCaseCountsAsTheAccount", func(t *testing.T) {
		for _, login := range []string{"victim", " VICTIM", "ｖｉｃｔｉｍ\n", "VICTIM@example.com"} {
			if _, _, err := s.Login(from, login, "wrong"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("login %q: %v", login, err)
			}
		}
		if n := s.guard.count(victim); n != 4 {
			t.Fatalf("the account counted %d failures, want 4", n)
		}
	})
	t.Run("SuccessClearsTheAccountAndRefundsTheAddress", func(t *testing.T) {
		before := s.guard.count("ip:192.0.2.1")
		if _, _, err := s.Login(from, "victim", "password-victim"); err != nil {
			t.Fatal(err)
		}
		if n := s.guard.count(victim); n != 0 {
			t.Fatalf("the account still counts %d failures after a success", n)
		}
		if n := s.guard.count("ip:192.0.2.1"); n != before {
			t.Fatalf("a success changed the address's failures from %d to %d", before, n)
		}
	})
	t.Run("UnknownAccountIsHashedAndCountedByItsNormalisedLogin", func(t *testing.T) {
		hashed := s.hashes.verified.Load()
		if _, _, err := s.Login(from, " NoBody ", "wrong"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("unknown account: %v, want ErrBadCredentials", err)
		}
		if s.hashes.verified.Load() != hashed+1 {
			t.Fatal("an unknown account was not hashed: it answers faster than a wrong password")
		}
		if n := s.guard.count("acct:login:nobody@192.0.2.1"); n != 1 {
			t.Fatalf("the unknown login counted %d failures, want 1", n)
		}
	})
	t.Run("NoVerdictIsGivenBack", func(t *testing.T) {
		before := s.guard.count(victim)
		cancelled, cancel := context.WithCancel(from)
		cancel()
		if _, _, err := s.Login(cancelled, "victim", "wrong"); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled login: %v", err)
		}
		if n := s.guard.count(victim); n != before {
			t.Fatalf("a login cancelled before its hash counted as a failure (%d -> %d)", before, n)
		}
	})
}

// TestChangePasswordGuessingIsLimited: after the limit of wrong current
// passwords, even the right one is refused without being hashed.
func TestChangePasswordGuessingIsLimited(t *testing.T) {
	const limit = 3
	s := newTestService(t, limit)
	ctx := context.Background()
	p, _ := s.login(t)
	for i := range limit {
		if err := s.ChangePassword(ctx, p, "guess", "a new password"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("guess %d: %v, want ErrBadCredentials", i+1, err)
		}
	}
	hashed := s.hashes.verified.Load()
	err := s.ChangePassword(ctx, p, "password-victim", "a new password")
	var limited *LimitedError
	if !errors.As(err, &limited) || limited.Wait <= 0 {
		t.Fatalf("the right password after %d guesses: %v, want a LimitedError with a wait", limit, err)
	}
	if s.hashes.verified.Load() != hashed {
		t.Fatal("a refused change still hashed the password")
	}
	if _, _, err := s.Login(ctx, "victim", "password-victim"); err != nil {
		t.Fatalf("the password changed although the change was refused: %v", err)
	}
}

// TestReplayedRefreshEndsTheSessionEverywhere: the replayer is refused, the
// session's live connections are told to close, and the newest refresh
// token dies with it.
func TestReplayedRefreshEndsTheSessionEverywhere(t *testing.T) {
	s := newTestService(t, 5)
	ctx := context.Background()
	p, first := s.login(t)
	second, err := s.Refresh(ctx, first.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx, first.Refresh); !errors.Is(err, ErrBadToken) || errors.Is(err, ErrRefreshReplayed) {
		t.Fatalf("replayed refresh: %v, want plain ErrBadToken", err)
	}
	if !slices.Equal(s.ended.ids, []string{p.SessionID}) {
		t.Fatalf("sessions told to close: %v, want [%s]", s.ended.ids, p.SessionID)
	}
	if _, err := s.Authenticate(ctx, second.Access); !errors.Is(err, ErrBadToken) {
		t.Fatalf("the session's access token after the replay: %v", err)
	}
	if _, err := s.Refresh(ctx, second.Refresh); !errors.Is(err, ErrBadToken) {
		t.Fatalf("the newest refresh token after the replay: %v", err)
	}
}
