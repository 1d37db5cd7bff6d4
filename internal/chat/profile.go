package chat

import (
	"context"
	"time"
	"unicode/utf8"
)

// Limits of profiles and user search.
const (
	MaxDisplayNameLen  = 64
	MaxStatusLen       = 140
	DefaultSearchLimit = 20
	MaxSearchLimit     = 50
)

// ProfileStore keeps the public side of accounts: finding people and
// changing one's own profile.
type ProfileStore interface {
	// SearchUsers lists users whose username or display name starts with
	// prefix, ignoring case, without their emails: at most limit, by
	// username, leaving out the viewer and those who blocked the viewer.
	SearchUsers(ctx context.Context, viewer int64, prefix string, limit int) ([]User, error)
	// SetProfile stores the user's display name and status and returns the
	// user; changed is false when both already were so.
	SetProfile(ctx context.Context, userID int64, displayName, status string) (u User, changed bool, err error)
	// SetAvatar makes key (a blob the files package stored) the user's
	// profile picture, queueing the replaced one's blob for deletion.
	SetAvatar(ctx context.Context, userID int64, key string, now time.Time) (User, error)
	// FriendIDs lists the user's friends.
	FriendIDs(ctx context.Context, userID int64) ([]int64, error)
}

// ProfileUpdate names the profile fields to change; nil fields stay.
type ProfileUpdate struct {
	DisplayName *string
	StatusText  *string
	// Avatar is the blob key of a new profile picture, already stored.
	Avatar *string
}

// UserByUsername returns a user's account by username, ignoring case.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	return s.store.UserByUsername(ctx, username)
}

// SearchUsers finds users by the start of their username or display name
// for the viewer, DefaultSearchLimit of them when limit is 0.
func (s *Service) SearchUsers(ctx context.Context, viewer int64, query string, limit int) ([]User, error) {
	query, err := cleanVisibleLabel("the search", query)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	return s.store.SearchUsers(ctx, viewer, query, min(limit, MaxSearchLimit))
}

// UpdateProfile changes the caller's display name and status, then tells
// the caller's sessions and friends.
func (s *Service) UpdateProfile(ctx context.Context, userID int64, up ProfileUpdate) (User, error) {
	me, err := s.store.User(ctx, userID)
	if err != nil {
		return User{}, err
	}
	name, status, err := applyProfile(me, up)
	if err != nil {
		return User{}, err
	}
	u, changed, err := s.store.SetProfile(ctx, userID, name, status)
	if err == nil && up.Avatar != nil {
		u, changed, err = s.setAvatar(ctx, userID, *up.Avatar)
	}
	if err != nil || !changed {
		return u, err
	}
	e := Event{Kind: UserUpdated, To: userID, User: &u}
	s.publish(ctx, e)
	s.tellFriends(ctx, userID, e)
	return u, nil
}

// setAvatar stores the new picture's key; the old picture's blob goes.
func (s *Service) setAvatar(ctx context.Context, userID int64, key string) (User, bool, error) {
	u, err := s.store.SetAvatar(ctx, userID, key, s.now().UTC())
	if err != nil {
		return User{}, false, err
	}
	if s.trash != nil {
		s.trash.Empty()
	}
	return u, true, nil
}

// applyProfile is the user's profile after the update, checked.
func applyProfile(me User, up ProfileUpdate) (name, status string, err error) {
	name, status = me.DisplayName, me.StatusText
	if up.DisplayName != nil {
		if name, err = cleanVisibleLabel("the display name", *up.DisplayName); err != nil {
			return "", "", err
		}
		if n := utf8.RuneCountInString(name); n > MaxDisplayNameLen {
			return "", "", Errorf(ErrInvalid, "the display name has %d characters; the limit is %d", n, MaxDisplayNameLen)
		}
	}
	if up.StatusText != nil {
		if status, err = cleanLabel("the status", *up.StatusText); err != nil {
			return "", "", err
		}
		if n := utf8.RuneCountInString(status); n > MaxStatusLen {
			return "", "", Errorf(ErrInvalid, "the status has %d characters; the limit is %d", n, MaxStatusLen)
		}
	}
	return name, status, nil
}

// tellFriends sends the event to every session of each of the user's
// friends. A failure to list them is logged, not returned: the change is
// stored, and friends see it on their next load.
func (s *Service) tellFriends(ctx context.Context, userID int64, e Event) {
	friends, err := s.store.FriendIDs(ctx, userID)
	if err != nil {
		s.log.WarnContext(ctx, "list friends to tell", "user_id", userID, "kind", e.Kind, "err", err)
		return
	}
	for _, f := range friends {
		e.To = f
		s.publish(ctx, e)
	}
}
