package auth

import (
	"context"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/parley-chat/parley/internal/chat"
)

// ErrTooManyAttempts refuses a password check while its limit is spent, a
// chat.ErrExhausted; errors.As finds the wait in a *LimitedError.
var ErrTooManyAttempts error = &chat.Error{Kind: chat.ErrExhausted, Msg: "too many failed attempts"}

// LimitedError is ErrTooManyAttempts with the wait until the next attempt.
type LimitedError struct {
	Msg  string
	Wait time.Duration
}

func (e *LimitedError) Error() string { return e.Msg }

// Unwrap lets errors.Is see ErrTooManyAttempts.
func (e *LimitedError) Unwrap() error { return ErrTooManyAttempts }

// AttemptKind says what a password is checked for; each kind has its own
// limits.
type AttemptKind int

// The password checks Guard limits.
const (
	// LoginAttempt counts per account and source address, and per address.
	LoginAttempt AttemptKind = iota
	// PasswordChangeAttempt counts per user, whatever the address: whoever
	// guesses holds the user's access token and may move.
	PasswordChangeAttempt
)

// Attempt is one password check: of which account, from where.
type Attempt struct {
	Kind AttemptKind
	// Account is "u:<id>" when the account exists, so every spelling the
	// database matches counts as one, and "login:<normalised login>" when
	// it does not.
	Account string
	// Addr is the client's address (empty for password changes).
	Addr string
}

// Guard limits password guessing across every process. Reserve records the
// attempt before the password is hashed, so however many guesses arrive at
// once, no more than the limit reach the hash. ratelimit fills it.
type Guard interface {
	// Reserve records one attempt and returns 0, or the wait when a limit
	// is spent (then nothing is recorded).
	Reserve(ctx context.Context, a Attempt) (time.Duration, error)
	// Succeeded clears the account's failures and gives back the rest of
	// the reservation: only wrong passwords count.
	Succeeded(ctx context.Context, a Attempt) error
	// Release gives back a reservation whose check reached no verdict.
	Release(ctx context.Context, a Attempt) error
}

// releaseTimeout bounds giving back an attempt after its call gave up.
const releaseTimeout = 2 * time.Second

// limitMessages are the sentences a refused attempt reads.
var limitMessages = map[AttemptKind]string{
	LoginAttempt:          "too many failed logins",
	PasswordChangeAttempt: "too many wrong current passwords",
}

// NormalizeLogin is the one form of a login that the account lookup and the
// limits share: trimmed, NFKC (full-width and compatibility forms become
// plain ones) and case-folded.
func NormalizeLogin(login string) string {
	return norm.NFKC.String(cases.Fold().String(strings.TrimSpace(norm.NFKC.String(login))))
}

// accountOf names the account an attempt counts against: its id when it
// exists, the normalised login otherwise.
func accountOf(userID int64, login string) string {
	if userID != 0 {
		return "u:" + strconv.FormatInt(userID, 10)
	}
	return "login:" + login
}

type clientAddrKey struct{}

// WithClientAddr tells Login where the attempt comes from. The transport
// knows the address (and which proxies to believe); Login reads it from the
// context so the per-address limits count the same address the transport
// logs.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// clientAddr is the address WithClientAddr set, empty when none was: such
// logins then share one per-address count.
func clientAddr(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	return addr
}

// checkPassword reserves the attempt, then compares: a spent limit answers
// *LimitedError without hashing, a wrong password ErrBadCredentials.
func (s *Service) checkPassword(ctx context.Context, a Attempt, password, hash string) error {
	wait, err := s.guard.Reserve(ctx, a)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &LimitedError{Msg: limitMessages[a.Kind], Wait: wait}
	}
	ok, err := s.hasher.verify(ctx, password, hash)
	switch {
	case err != nil:
		// No verdict (the call was cancelled waiting for a hash slot):
		// that was no guess. The call's context may be done; the refund
		// gets its own short one. If it fails, the attempt stays counted.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		_ = s.guard.Release(rctx, a)
		return err
	case !ok:
		return ErrBadCredentials
	}
	return s.guard.Succeeded(ctx, a)
}
