package store

import (
	"context"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// CreateUser stores a new account; a taken username or email is
// chat.ErrConflict saying which.
func (s *Store) CreateUser(ctx context.Context, u chat.User, passwordHash string) (chat.User, error) {
	id, err := s.q.CreateUser(ctx, db.CreateUserParams{
		Username: u.Username, Email: u.Email, DisplayName: u.DisplayName,
		PasswordHash: passwordHash, CreatedAt: u.CreatedAt,
	})
	switch {
	case isDuplicateKey(err, "users_username"):
		return chat.User{}, chat.Errorf(chat.ErrConflict, "that username is taken")
	case isDuplicateKey(err, "users_email"):
		return chat.User{}, chat.Errorf(chat.ErrConflict, "that email is already registered")
	case err != nil:
		return chat.User{}, domainError(err)
	}
	u.ID = id
	return u, nil
}

// UserByLogin finds an account by email or username, with its password hash.
func (s *Store) UserByLogin(ctx context.Context, login string) (chat.User, string, error) {
	row, err := s.q.GetUserByLogin(ctx, db.GetUserByLoginParams{Login: login})
	if err != nil {
		return chat.User{}, "", domainError(err)
	}
	return toUser(row), row.PasswordHash, nil
}

// User finds an account by id.
func (s *Store) User(ctx context.Context, id int64) (chat.User, error) {
	row, err := s.q.GetUser(ctx, id)
	if err != nil {
		return chat.User{}, notFound(err, "user %d not found", id)
	}
	u := toUser(row)
	u.Settings = chat.Settings{ShareReadReceipts: row.ShareReadReceipts, DmPolicy: chat.DmPolicy(row.DmPolicy)}
	return u, nil
}

// PasswordHash returns the account's password hash.
func (s *Store) PasswordHash(ctx context.Context, id int64) (string, error) {
	row, err := s.q.GetUser(ctx, id)
	if err != nil {
		return "", domainError(err)
	}
	return row.PasswordHash, nil
}

// SetPasswordHash replaces the account's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	n, err := s.q.SetPasswordHash(ctx, db.SetPasswordHashParams{PasswordHash: hash, ID: id})
	if err == nil && n == 0 {
		return chat.ErrNotFound
	}
	return domainError(err)
}

// UserByUsername finds an account by username, ignoring case.
func (s *Store) UserByUsername(ctx context.Context, username string) (chat.User, error) {
	row, err := s.q.GetUserByUsername(ctx, username)
	if err != nil {
		return chat.User{}, notFound(err, "no user named %q", username)
	}
	return toUser(row), nil
}

// Secret returns the named server secret, storing generate's value first if
// none exists, so every process ends up with the same one.
func (s *Store) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	secret, err := s.q.GetSecret(ctx, name)
	if err == nil {
		return secret, nil
	}
	fresh, err := generate()
	if err != nil {
		return nil, err
	}
	err = s.q.InsertSecretIfMissing(ctx, db.InsertSecretIfMissingParams{Name: name, Secret: fresh, CreatedAt: time.Now().UTC()})
	if err != nil {
		return nil, domainError(err)
	}
	secret, err = s.q.GetSecret(ctx, name)
	return secret, domainError(err)
}

func toUser(u db.User) chat.User {
	return chat.User{ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, StatusText: u.StatusText, Avatar: u.Avatar, CreatedAt: u.CreatedAt}
}
