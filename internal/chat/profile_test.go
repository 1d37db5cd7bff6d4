package chat_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

// profileStore is one user with two friends in memory; what the tests do
// not use of chat.Store panics.
type profileStore struct {
	chat.Store
	me       chat.User
	settings chat.Settings
}

func (s *profileStore) User(context.Context, int64) (chat.User, error) {
	u := s.me
	u.Settings = s.settings
	return u, nil
}

func (s *profileStore) SetProfile(_ context.Context, _ int64, name, status string) (chat.User, bool, error) {
	changed := s.me.DisplayName != name || s.me.StatusText != status
	s.me.DisplayName, s.me.StatusText = name, status
	return s.me, changed, nil
}

func (s *profileStore) FriendIDs(context.Context, int64) ([]int64, error) { return []int64{2, 3}, nil }

func (s *profileStore) SetSettings(_ context.Context, _ int64, set chat.Settings) (bool, error) {
	changed := s.settings != set
	s.settings = set
	return changed, nil
}

func newProfileService() (*chat.Service, *profileStore, *published) {
	st := &profileStore{me: chat.User{ID: 1, Username: "ann", DisplayName: "ann", StatusText: "busy"}, settings: chat.Settings{DmPolicy: chat.DmEveryone}}
	events := &published{}
	return chat.NewService(st, nil, events, &window{}, slog.New(slog.NewTextHandler(io.Discard, nil))), st, events
}

func TestUpdateProfile(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name       string
		up         chat.ProfileUpdate
		wantName   string
		wantStatus string
		wantErr    string
	}{
		{"OK", chat.ProfileUpdate{DisplayName: str(" Ann Lee "), StatusText: str(" away ")}, "Ann Lee", "away", ""},
		{"OKStatusOnly", chat.ProfileUpdate{StatusText: str("back")}, "ann", "back", ""},
		{"OKStatusCleared", chat.ProfileUpdate{StatusText: str("")}, "ann", "", ""},
		{"OKStatusAtLimit", chat.ProfileUpdate{StatusText: str(strings.Repeat("é", chat.MaxStatusLen))}, "ann", strings.Repeat("é", chat.MaxStatusLen), ""},
		{"ErrStatusTooLong", chat.ProfileUpdate{StatusText: str(strings.Repeat("é", chat.MaxStatusLen+1))}, "", "", "the status has 141 characters; the limit is 140"},
		{"ErrNameTooLong", chat.ProfileUpdate{DisplayName: str(strings.Repeat("a", chat.MaxDisplayNameLen+1))}, "", "", "the limit is 64"},
		{"ErrNameBlank", chat.ProfileUpdate{DisplayName: str(" \u3164 ")}, "", "", "the display name must not be blank"},
		{"ErrNameControl", chat.ProfileUpdate{DisplayName: str("a\u0000b")}, "", "", "the display name contains an invisible control"},
		{"ErrStatusBidi", chat.ProfileUpdate{StatusText: str("a\u202eb")}, "", "", "the status contains an invisible control or formatting character (U+202E)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, _, events := newProfileService()
			u, err := svc.UpdateProfile(context.Background(), 1, tc.up)
			if tc.wantErr != "" {
				if !errors.Is(err, chat.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want invalid %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || u.DisplayName != tc.wantName || u.StatusText != tc.wantStatus {
				t.Fatalf("got %+v, %v; want %q, %q", u, err, tc.wantName, tc.wantStatus)
			}
			var to []int64
			for _, e := range *events {
				if e.Kind != chat.UserUpdated || e.User.StatusText != tc.wantStatus {
					t.Fatalf("published %+v", e)
				}
				to = append(to, e.To)
			}
			if len(to) != 3 || to[0] != 1 {
				t.Fatalf("told %v; want the user, then each friend", to)
			}
		})
	}
}

// TestUpdateProfileUnchangedTellsNobody: an update that changes nothing
// publishes nothing.
func TestUpdateProfileUnchangedTellsNobody(t *testing.T) {
	svc, _, events := newProfileService()
	name := "ann"
	if _, err := svc.UpdateProfile(context.Background(), 1, chat.ProfileUpdate{DisplayName: &name}); err != nil || len(*events) != 0 {
		t.Fatalf("%v; published %v", err, *events)
	}
}

// TestDmPolicy: unspecified means everyone; an unknown value is refused;
// the change is told with the new settings.
func TestDmPolicy(t *testing.T) {
	svc, st, events := newProfileService()
	for _, tc := range []struct {
		in, want chat.DmPolicy
		err      bool
	}{{chat.DmFriends, chat.DmFriends, false}, {0, chat.DmEveryone, false}, {7, chat.DmEveryone, true}} {
		set, err := svc.UpdateSettings(context.Background(), 1, chat.SettingsUpdate{DmPolicy: &tc.in})
		if tc.err != errors.Is(err, chat.ErrInvalid) || (!tc.err && set.DmPolicy != tc.want) || st.settings.DmPolicy != tc.want {
			t.Fatalf("policy %d: %+v, %v; stored %d", tc.in, set, err, st.settings.DmPolicy)
		}
	}
	if k := events.kinds(); len(k) != 2 || (*events)[0].Settings.DmPolicy != chat.DmFriends {
		t.Fatalf("published %v", *events)
	}
}
