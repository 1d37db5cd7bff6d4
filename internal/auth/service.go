package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Service registers users and manages their sessions and tokens.
type Service struct {
	users    Users
	sessions Sessions
	watcher  SessionWatcher
	guard    Guard
	signer   *signer
	hasher   passwordHasher
	now      func() time.Time
}

// passwordHasher is what Service needs of hasher; tests count the hashes
// through it.
type passwordHasher interface {
	hash(ctx context.Context, password string) (string, error)
	verify(ctx context.Context, password, hash string) (bool, error)
}

// NewService builds the service; key signs access tokens and must be shared
// by every process.
func NewService(users Users, sessions Sessions, watcher SessionWatcher, guard Guard, key []byte) (*Service, error) {
	h, err := newHasher()
	if err != nil {
		return nil, err
	}
	return &Service{users: users, sessions: sessions, watcher: watcher, guard: guard, signer: newSigner(key), hasher: h, now: time.Now}, nil
}

// Register creates an account. Username and email shape is checked by the
// schema; uniqueness (ignoring case) by the store.
func (s *Service) Register(ctx context.Context, username, email, password string) (chat.User, error) {
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return chat.User{}, err
	}
	u := chat.User{Username: username, Email: strings.TrimSpace(email), DisplayName: username, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	return s.users.CreateUser(ctx, u, hash)
}

// Login checks a password and starts a session. Unknown accounts and wrong
// passwords get the same error after the same work. The attempt counts
// against the account the database finds, however the login was spelt, and
// against the address WithClientAddr gave; the session records that
// address and the client WithUserAgent named.
func (s *Service) Login(ctx context.Context, login, password string) (chat.User, Tokens, error) {
	login = NormalizeLogin(login)
	user, hash, err := s.users.UserByLogin(ctx, login)
	if err != nil && !errors.Is(err, chat.ErrNotFound) {
		return chat.User{}, Tokens{}, err
	}
	a := Attempt{Kind: LoginAttempt, Account: accountOf(user.ID, login), Addr: clientAddr(ctx)}
	if err := s.checkPassword(ctx, a, password, hash); err != nil {
		return chat.User{}, Tokens{}, err
	}
	sessionID := randomToken(16)
	refresh, refreshHash := newRefreshToken(sessionID)
	if err := s.sessions.Create(ctx, user.ID, newSessionInfo(ctx, sessionID, s.now()), refreshHash, RefreshTTL); err != nil {
		return chat.User{}, Tokens{}, err
	}
	tokens, err := s.issue(Principal{UserID: user.ID, SessionID: sessionID}, refresh)
	return user, tokens, err
}

// Refresh trades a refresh token for new tokens; the old one stops working.
// Presenting an old one again ends the session at once, everywhere (OAuth
// 2.0 Security BCP, refresh token rotation): either the thief or the owner
// holds a copy, and neither can be told apart, so both must log in again.
// Clients therefore refresh one at a time (the web app serialises its
// tabs); two refreshes racing with one token end their session.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	sessionID, oldHash, err := splitRefreshToken(refreshToken)
	if err != nil {
		return Tokens{}, ErrBadToken
	}
	refresh, newHash := newRefreshToken(sessionID)
	userID, err := s.sessions.Rotate(ctx, sessionID, oldHash, newHash, RefreshTTL)
	if errors.Is(err, ErrRefreshReplayed) {
		if err := s.watcher.SessionEnded(ctx, userID, sessionID); err != nil {
			return Tokens{}, err
		}
		return Tokens{}, ErrBadToken
	}
	if err != nil {
		return Tokens{}, err
	}
	return s.issue(Principal{UserID: userID, SessionID: sessionID}, refresh)
}

func (s *Service) issue(p Principal, refresh string) (Tokens, error) {
	access, exp, err := s.signer.sign(p, s.now())
	if err != nil {
		return Tokens{}, fmt.Errorf("sign access token: %w", err)
	}
	return Tokens{Access: access, Refresh: refresh, AccessExpiresAt: exp}, nil
}

// Authenticate checks an access token and that its session is still open.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	p, err := s.signer.parse(token)
	if err != nil {
		return Principal{}, err
	}
	userID, err := s.sessions.UserOf(ctx, p.SessionID, s.now())
	switch {
	case errors.Is(err, chat.ErrUnavailable):
		// While Redis restarts, a correctly signed, unexpired token is
		// trusted on its own: refusing everyone would be the larger harm,
		// and the token lives 15 minutes at most.
		return p, nil
	case err != nil:
		return Principal{}, err
	}
	if userID != p.UserID {
		return Principal{}, ErrBadToken
	}
	return p, nil
}

// Logout ends the session everywhere, including its live connections.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	return s.end(ctx, p.UserID, p.SessionID)
}

// ChangePassword checks the current password, stores the new one and ends
// the user's other sessions, so a stolen session dies with the old password.
// Wrong current passwords are limited per user, so a stolen access token
// cannot be used to guess the password and take the account over.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	hash, err := s.users.PasswordHash(ctx, p.UserID)
	if err != nil {
		return err
	}
	a := Attempt{Kind: PasswordChangeAttempt, Account: accountOf(p.UserID, "")}
	if err := s.checkPassword(ctx, a, current, hash); err != nil {
		return err
	}
	newHash, err := s.hasher.hash(ctx, next)
	if err != nil {
		return err
	}
	if err := s.users.SetPasswordHash(ctx, p.UserID, newHash); err != nil {
		return err
	}
	ended, err := s.sessions.EndOthers(ctx, p.UserID, p.SessionID)
	if err != nil {
		return err
	}
	for _, sid := range ended {
		if err := s.watcher.SessionEnded(ctx, p.UserID, sid); err != nil {
			return err
		}
	}
	return nil
}

// User returns the caller's own account.
func (s *Service) User(ctx context.Context, id int64) (chat.User, error) {
	return s.users.User(ctx, id)
}

// SessionUser is the user of a live session, ErrBadToken once it ended:
// signed download URLs name their session, and die with it.
func (s *Service) SessionUser(ctx context.Context, sessionID string) (int64, error) {
	return s.sessions.UserOf(ctx, sessionID, s.now())
}
