package store

import (
	"context"
	"strings"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// likeEscaper makes a search text a literal LIKE prefix: '!' is the
// query's escape character (ESCAPE '!'), not the backslash, whose meaning
// depends on the server's sql_mode.
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// SearchUsers lists users whose username or display name starts with
// prefix, ignoring case, without emails.
func (s *Store) SearchUsers(ctx context.Context, viewer int64, prefix string, limit int) ([]chat.User, error) {
	n := int32(limit)
	rows, err := s.q.SearchUsers(ctx, db.SearchUsersParams{
		Prefix: likeEscaper.Replace(prefix) + "%", Viewer: viewer, Limit: n, Limit_2: n, Limit_3: n,
	})
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.User, len(rows))
	for i, r := range rows {
		out[i] = chat.User{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, StatusText: r.StatusText, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

// SetProfile stores the user's display name and status.
func (s *Store) SetProfile(ctx context.Context, userID int64, displayName, status string) (chat.User, bool, error) {
	n, err := s.q.SetProfile(ctx, db.SetProfileParams{DisplayName: displayName, StatusText: status, ID: userID})
	if err != nil {
		return chat.User{}, false, domainError(err)
	}
	u, err := s.User(ctx, userID)
	return u, n > 0, err
}
