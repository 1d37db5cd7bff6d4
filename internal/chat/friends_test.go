package chat_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// friendStore answers the friend calls with what a test sets; what the
// tests do not use of chat.Store panics. Users are 1 (ann) and 2 (bo).
type friendStore struct {
	chat.Store
	rel   chat.Relation
	asked chat.Asked
	ended chat.Ended
}

var friendUsers = map[int64]chat.User{1: {ID: 1, Username: "ann"}, 2: {ID: 2, Username: "bo"}}

func (s *friendStore) User(_ context.Context, id int64) (chat.User, error) {
	return friendUsers[id], nil
}

func (s *friendStore) UserByUsername(_ context.Context, name string) (chat.User, error) {
	for _, u := range friendUsers {
		if u.Username == name {
			return u, nil
		}
	}
	return chat.User{}, chat.Errorf(chat.ErrNotFound, "no user named %q", name)
}

func (s *friendStore) AskFriend(_ context.Context, _, _ int64, _ time.Time, check func(chat.Relation) error) (chat.Asked, error) {
	if err := check(s.rel); err != nil {
		return 0, err
	}
	return s.asked, nil
}

func (s *friendStore) Block(context.Context, int64, int64, time.Time) (chat.Ended, error) {
	return s.ended, nil
}

func newFriendService(st *friendStore) (*chat.Service, *published) {
	events := &published{}
	return chat.NewService(st, nil, events, &window{}, slog.New(slog.NewTextHandler(io.Discard, nil))), events
}

// told is who heard what: "to:kind:other person" per event.
func told(events published) string {
	var out []string
	for _, e := range events {
		other := e.UserID
		switch {
		case e.User != nil:
			other = e.User.ID
		case e.Request != nil:
			other = e.Request.User.ID
		}
		s := string(rune('0'+e.To)) + ":" + string(rune('0'+other))
		if e.Outgoing {
			s += ":outgoing"
		}
		out = append(out, kindName[e.Kind]+"@"+s)
	}
	return strings.Join(out, " ")
}

var kindName = map[chat.EventKind]string{
	chat.FriendRequestReceived: "received", chat.FriendRequestAnswered: "answered",
	chat.FriendRemoved: "removed", chat.BlockChanged: "block",
}

func TestSendFriendRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		store   friendStore
		to      string
		friends bool
		told    string
		err     string
	}{
		{"OKRequested", friendStore{asked: chat.Requested}, "bo", false, "received@2:1 received@1:2:outgoing", ""},
		{"OKBefriended", friendStore{asked: chat.Befriended}, "bo", true, "answered@1:2 answered@2:1", ""},
		{"OKAgain", friendStore{asked: chat.AlreadyRequested}, "bo", false, "", ""},
		{"OKAlreadyFriends", friendStore{asked: chat.AlreadyFriends}, "bo", true, "", ""},
		{"ErrBlockedBy", friendStore{rel: chat.Relation{BlockedBy: true}}, "bo", false, "", "this user does not accept messages from you"},
		{"ErrBlocks", friendStore{rel: chat.Relation{Blocks: true}}, "bo", false, "", "you blocked this user: unblock them first"},
		{"OKPolicyLetsRequestsIn", friendStore{rel: chat.Relation{Policy: chat.DmFriends}, asked: chat.Requested}, "bo", false, "received@2:1 received@1:2:outgoing", ""},
		{"ErrYourself", friendStore{}, "ann", false, "", "yourself"},
		{"ErrUnknown", friendStore{}, "cy", false, "", `no user named "cy"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, events := newFriendService(&tc.store)
			friends, err := svc.SendFriendRequest(context.Background(), 1, tc.to)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || friends != tc.friends || told(*events) != tc.told {
				t.Fatalf("friends %v, %v, told %q; want %v, %q", friends, err, told(*events), tc.friends, tc.told)
			}
		})
	}
}

// TestBlockTellsTheBlockedOnlyWhatEnded: the blocked user hears of the
// friendship and the request ending, never of the block.
func TestBlockTellsTheBlockedOnlyWhatEnded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ended chat.Ended
		told  string
	}{
		{"Friends", chat.Ended{Added: true, Friendship: true}, "removed@1:2 removed@2:1 block@1:2"},
		{"Request", chat.Ended{Added: true, Request: true}, "answered@1:2 answered@2:1 block@1:2"},
		{"Stranger", chat.Ended{Added: true}, "block@1:2"},
		{"Again", chat.Ended{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, events := newFriendService(&friendStore{ended: tc.ended})
			if err := svc.BlockUser(context.Background(), 1, 2); err != nil || told(*events) != tc.told {
				t.Fatalf("%v, told %q; want %q", err, told(*events), tc.told)
			}
			for _, e := range *events {
				if e.Kind == chat.FriendRequestAnswered && e.Accepted {
					t.Fatalf("a block accepted a request: %+v", e)
				}
			}
		})
	}
	svc, _ := newFriendService(&friendStore{})
	if err := svc.BlockUser(context.Background(), 1, 1); !errors.Is(err, chat.ErrInvalid) {
		t.Fatalf("blocking yourself: %v", err)
	}
}
