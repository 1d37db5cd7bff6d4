package auth

import (
	"context"
	"slices"
	"strings"
	"time"
)

// MaxUserAgent caps the User-Agent a session keeps, in characters: enough
// to tell browsers and devices apart, too little to store a client's essay.
const MaxUserAgent = 256

// SessionInfo describes one login for its owner's list of devices.
type SessionInfo struct {
	ID         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	UserAgent  string
	// Address is the client's address as the server saw it at login.
	Address string
	// Current marks the session of the caller who asked for the list.
	Current bool
}

type userAgentKey struct{}

// WithUserAgent tells Login which client is logging in, so the session can
// be recognised in its owner's list.
func WithUserAgent(ctx context.Context, userAgent string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, userAgent)
}

// newSessionInfo describes a session starting now for the client the
// context names. The User-Agent is made valid UTF-8 (a header may carry any
// byte; a proto string may not) and capped to MaxUserAgent characters.
func newSessionInfo(ctx context.Context, id string, now time.Time) SessionInfo {
	ua, _ := ctx.Value(userAgentKey{}).(string)
	ua = strings.ToValidUTF8(ua, "\uFFFD")
	if r := []rune(ua); len(r) > MaxUserAgent {
		ua = string(r[:MaxUserAgent])
	}
	now = now.UTC().Truncate(time.Millisecond)
	return SessionInfo{ID: id, CreatedAt: now, LastSeenAt: now, UserAgent: ua, Address: clientAddr(ctx)}
}

// ListSessions returns the caller's live sessions, newest first, the
// caller's own marked Current.
func (s *Service) ListSessions(ctx context.Context, p Principal) ([]SessionInfo, error) {
	list, err := s.sessions.List(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Current = list[i].ID == p.SessionID
	}
	slices.SortFunc(list, func(a, b SessionInfo) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return list, nil
}

// RevokeSession ends one of the caller's sessions everywhere, as Logout
// ends the current one (revoking the current one is a logout). A session
// that is gone, or is not the caller's, is answered alike and left alone,
// so session ids of others cannot be probed.
func (s *Service) RevokeSession(ctx context.Context, p Principal, sessionID string) error {
	return s.end(ctx, p.UserID, sessionID)
}

// end ends the user's session and closes its live connections on every
// process.
func (s *Service) end(ctx context.Context, userID int64, sessionID string) error {
	ended, err := s.sessions.End(ctx, userID, sessionID)
	if err != nil || !ended {
		return err
	}
	return s.watcher.SessionEnded(ctx, userID, sessionID)
}
