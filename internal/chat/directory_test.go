package chat_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// roomStore is one room and its members in memory; what the tests do not
// use of chat.Store panics.
type roomStore struct {
	chat.Store
	mu      sync.Mutex
	room    chat.Room
	members map[int64]bool
}

func (s *roomStore) current() chat.Room {
	r := s.room
	r.MemberCount = int64(len(s.members))
	return r
}

func (s *roomStore) Room(context.Context, int64) (chat.Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current(), nil
}

// RoomFor gives members their own read state, which no listing may carry.
func (s *roomStore) RoomFor(_ context.Context, userID, _ int64) (chat.Room, chat.Role, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, role := s.current(), chat.Role(0)
	if s.members[userID] {
		r.Joined, r.ReadSeq, r.UnreadCount, role = true, 3, 2, chat.Member
	}
	return r, role, nil
}

func (s *roomStore) AddMember(_ context.Context, _, userID int64, role chat.Role) (chat.Membership, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	added := !s.members[userID]
	s.members[userID] = true
	return chat.Membership{User: chat.User{ID: userID}, Role: role}, added, nil
}

func (s *roomStore) RemoveMember(_ context.Context, _, userID int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.members[userID]
	delete(s.members, userID)
	return was, nil
}

type nobodyOnline struct{}

func (nobodyOnline) Online(context.Context, []int64) (map[int64]bool, error) {
	return map[int64]bool{}, nil
}

func (l *lockedEvents) listings(tb testing.TB) []chat.Room {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []chat.Room
	for _, e := range l.list {
		if e.Kind == chat.RoomListed {
			if e.Topic() != chat.DirectoryTopic || e.RoomID != e.Room.ID {
				tb.Fatalf("listing %+v is not addressed to the directory", e)
			}
			out = append(out, *e.Room)
		}
	}
	return out
}

func counts(rs []chat.Room) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.MemberCount
	}
	return out
}

// TestDirectoryWindow: joins and leaves of a public channel within
// DirectoryWindow reach the directory as one listing now and one when the
// window ends, with the count then and nobody's read state; a private
// room's are never listed.
func TestDirectoryWindow(t *testing.T) {
	ctx := context.Background()
	newService := func(v chat.Visibility) (*chat.Service, *lockedEvents) {
		st := &roomStore{room: chat.Room{ID: 9, Name: "lounge", Visibility: v, Kind: chat.Channel}, members: map[int64]bool{1: true}}
		events := &lockedEvents{}
		return chat.NewService(st, nobodyOnline{}, events, &window{}, slog.New(slog.NewTextHandler(io.Discard, nil))), events
	}
	t.Run("PublicCoalesced", func(t *testing.T) {
		svc, events := newService(chat.Public)
		for uid := int64(2); uid <= 6; uid++ {
			if _, err := svc.JoinRoom(ctx, uid, 9); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.LeaveRoom(ctx, 2, 9); err != nil {
			t.Fatal(err)
		}
		if got := counts(events.listings(t)); !slices.Equal(got, []int64{2}) {
			t.Fatalf("listings within the window: member counts %v, want [2]", got)
		}
		deadline := time.Now().Add(3 * chat.DirectoryWindow)
		for len(events.listings(t)) < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // nothing more may follow
		got := events.listings(t)
		if !slices.Equal(counts(got), []int64{2, 5}) {
			t.Fatalf("listings after the window: member counts %v, want [2 5]", counts(got))
		}
		for _, r := range got {
			if r.Joined || r.ReadSeq != 0 || r.UnreadCount != 0 || r.Name != "lounge" {
				t.Fatalf("listed %+v; want the room without anyone's own state", r)
			}
		}
	})
	t.Run("PrivateNeverListed", func(t *testing.T) {
		svc, events := newService(chat.Private)
		if err := svc.LeaveRoom(ctx, 1, 9); err != nil {
			t.Fatal(err)
		}
		if got := events.listings(t); got != nil {
			t.Fatalf("a private room was listed: %+v", got)
		}
	})
}
