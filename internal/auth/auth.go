// Package auth registers accounts, checks passwords and issues and checks the
// tokens that authenticate every call. Sessions live in a SessionStore so a
// logout takes effect at once on every process.
package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Errors of authentication, of the kind chat.ErrUnauthenticated; their
// messages deliberately say nothing about which part was wrong.
var (
	ErrBadCredentials error = &chat.Error{Kind: chat.ErrUnauthenticated, Msg: "wrong login or password"}
	ErrBadToken       error = &chat.Error{Kind: chat.ErrUnauthenticated, Msg: "invalid or expired token"}
	// ErrRefreshReplayed is Sessions' word for a refresh token presented
	// after it was rotated: a copy is in someone else's hands, so the
	// session has been ended. It is an ErrBadToken; callers see only that.
	ErrRefreshReplayed = fmt.Errorf("refresh token replayed: %w", ErrBadToken)
)

// Lifetimes of the credentials.
const (
	AccessTTL  = 15 * time.Minute
	RefreshTTL = 30 * 24 * time.Hour
)

// Users is the account storage auth needs.
type Users interface {
	CreateUser(ctx context.Context, u chat.User, passwordHash string) (chat.User, error)
	UserByLogin(ctx context.Context, login string) (chat.User, string, error)
	User(ctx context.Context, id int64) (chat.User, error)
	PasswordHash(ctx context.Context, id int64) (string, error)
	SetPasswordHash(ctx context.Context, id int64, hash string) error
}

// Sessions keeps login sessions and their current refresh-token hash.
type Sessions interface {
	// Create stores a new session of the user, described by info.
	Create(ctx context.Context, userID int64, info SessionInfo, refreshHash string, ttl time.Duration) error
	// Rotate swaps the refresh hash when oldHash is current and returns the
	// session's user. When the session exists but oldHash is not current, a
	// refresh token was used twice: Rotate ends the session in the same
	// step and answers ErrRefreshReplayed with the session's user, whose
	// live connections must close. ErrBadToken when there is no such
	// session.
	Rotate(ctx context.Context, sessionID, oldHash, newHash string, ttl time.Duration) (int64, error)
	// UserOf returns the session's user, ErrBadToken when it has ended, and
	// notes that the session was seen at now (coarsely: it need not write
	// on every call).
	UserOf(ctx context.Context, sessionID string, now time.Time) (int64, error)
	// End ends the session if it is the user's and reports whether it was
	// there to end. Another user's session is left alone, as if gone.
	End(ctx context.Context, userID int64, sessionID string) (bool, error)
	// EndOthers ends every session of the user but keep, returning their ids.
	EndOthers(ctx context.Context, userID int64, keep string) ([]string, error)
	// List returns the user's live sessions, in no particular order.
	List(ctx context.Context, userID int64) ([]SessionInfo, error)
}

// SessionWatcher learns that a session of the user ended, to close its live
// connections wherever they are.
type SessionWatcher interface {
	SessionEnded(ctx context.Context, userID int64, sessionID string) error
}

// Principal is who is calling: the user and the session their token belongs to.
type Principal struct {
	UserID    int64
	SessionID string
}

// Tokens are what Login and Refresh hand out.
type Tokens struct {
	Access          string
	Refresh         string
	AccessExpiresAt time.Time
}

// BearerToken returns the token of an "Authorization: Bearer …" header, the
// one way a token travels (never in a URL, where logs would keep it).
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}
