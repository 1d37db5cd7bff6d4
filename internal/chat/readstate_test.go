package chat_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// readStore is a member's read state in memory; what the tests do not use
// of chat.Store panics.
type readStore struct {
	chat.Store
	readSeq, lastSeq int64
	member, muted    bool
	settings         chat.Settings
}

func (s *readStore) MoveReadSeq(_ context.Context, _, _, seq int64, back bool) (chat.ReadMove, error) {
	if !s.member {
		return chat.ReadMove{}, chat.ErrNotFound
	}
	target := min(seq, s.lastSeq)
	mv := chat.ReadMove{ReadSeq: s.readSeq, ShareReceipts: s.settings.ShareReadReceipts}
	if target == s.readSeq || (!back && target < s.readSeq) {
		return mv, nil
	}
	s.readSeq = target
	mv.ReadSeq, mv.Changed = target, true
	return mv, nil
}

func (s *readStore) Role(context.Context, int64, int64) (chat.Role, error) {
	if !s.member {
		return 0, chat.ErrNotFound
	}
	return chat.Member, nil
}

func (s *readStore) CheckMember(context.Context, int64, int64) error {
	if !s.member {
		return chat.ErrNotFound
	}
	return nil
}

func (s *readStore) RoomFor(_ context.Context, _, roomID int64) (chat.Room, chat.Role, error) {
	room := chat.Room{ID: roomID, Name: "r", Visibility: chat.Public, LastSeq: s.lastSeq}
	if !s.member {
		return room, 0, nil
	}
	room.Joined, room.ReadSeq, room.Muted = true, s.readSeq, s.muted
	return room, chat.Member, nil
}

func (s *readStore) SetMuted(_ context.Context, _, _ int64, muted bool) (bool, error) {
	changed := s.muted != muted
	s.muted = muted
	return changed, nil
}

func (s *readStore) User(_ context.Context, id int64) (chat.User, error) {
	return chat.User{ID: id, Settings: s.settings}, nil
}

func (s *readStore) SetSettings(_ context.Context, _ int64, set chat.Settings) (bool, error) {
	changed := s.settings != set
	s.settings = set
	return changed, nil
}

func (s *readStore) Receipts(context.Context, int64) ([]chat.Receipt, error) {
	return []chat.Receipt{{RoomID: 9, UserID: 2, ReadSeq: 4}}, nil
}

// published records the events the service publishes.
type published []chat.Event

func (p *published) Publish(_ context.Context, e chat.Event) error {
	*p = append(*p, e)
	return nil
}

func (p *published) kinds() []chat.EventKind {
	var out []chat.EventKind
	for _, e := range *p {
		out = append(out, e.Kind)
	}
	return out
}

func (s *readStore) ReadState(context.Context, int64, int64) (chat.ReadMove, error) {
	return chat.ReadMove{ReadSeq: s.readSeq, ShareReceipts: s.settings.ShareReadReceipts}, nil
}

// window admits the first call per key while it is open, like Redis's.
type window struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (w *window) Once(_ context.Context, key string, _ time.Duration) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	first := !w.seen[key]
	w.seen[key] = true
	return first, nil
}

func (w *window) Reset(_ context.Context, key string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.seen, key)
	return nil
}

func newReadService(st *readStore) (*chat.Service, *published) {
	events := &published{}
	return chat.NewService(st, nil, events, &window{}, slog.New(slog.NewTextHandler(io.Discard, nil))), events
}

// lockedEvents collects events published from any goroutine.
type lockedEvents struct {
	mu   sync.Mutex
	list []chat.Event
}

func (l *lockedEvents) Publish(_ context.Context, e chat.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, e)
	return nil
}

// TestReceiptWindow: a member's moves within ReceiptWindow reach the room
// as one receipt now and one when the window ends, with the watermark then.
func TestReceiptWindow(t *testing.T) {
	st := &readStore{member: true, lastSeq: 10, settings: chat.Settings{ShareReadReceipts: true}}
	events := &lockedEvents{}
	svc := chat.NewService(st, nil, events, &window{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for seq := int64(1); seq <= 5; seq++ {
		if _, err := svc.MarkRead(context.Background(), 7, 9, seq); err != nil {
			t.Fatal(err)
		}
	}
	receipts := func() []int64 {
		events.mu.Lock()
		defer events.mu.Unlock()
		var out []int64
		for _, e := range events.list {
			if e.Kind == chat.ReadReceipt {
				out = append(out, e.ReadSeq)
			}
		}
		return out
	}
	if got := receipts(); !slices.Equal(got, []int64{1}) {
		t.Fatalf("receipts within the window: %v, want [1]", got)
	}
	time.Sleep(chat.ReceiptWindow + 200*time.Millisecond)
	if got := receipts(); !slices.Equal(got, []int64{1, 5}) {
		t.Fatalf("receipts after the window: %v, want [1 5]", got)
	}
}

func TestMarkReadEvents(t *testing.T) {
	const user, room = 7, 9
	ctx := context.Background()
	cases := []struct {
		name  string
		share bool
		seq   int64
		want  []chat.EventKind
	}{
		{"SharingTellsSessionsAndRoom", true, 5, []chat.EventKind{chat.ReadMarker, chat.ReadReceipt}},
		{"NotSharingTellsOnlySessions", false, 5, []chat.EventKind{chat.ReadMarker}},
		{"NoChangeTellsNobody", true, 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &readStore{member: true, readSeq: 3, lastSeq: 10, settings: chat.Settings{ShareReadReceipts: c.share}}
			svc, events := newReadService(st)
			got, err := svc.MarkRead(ctx, user, room, c.seq)
			if err != nil || got != max(c.seq, 3) {
				t.Fatalf("MarkRead(%d) = %d, %v", c.seq, got, err)
			}
			if kinds := events.kinds(); !slices.Equal(kinds, c.want) {
				t.Fatalf("published %v, want %v", kinds, c.want)
			}
			for _, e := range *events {
				if e.ReadSeq != got || e.RoomID != room || (e.Kind == chat.ReadMarker) != (e.To == user) || (e.Kind == chat.ReadReceipt) != (e.UserID == user) {
					t.Fatalf("event %+v", e)
				}
			}
		})
	}
}

func TestMarkUnreadPutsWatermarkBeforeSeq(t *testing.T) {
	st := &readStore{member: true, readSeq: 8, lastSeq: 10}
	svc, _ := newReadService(st)
	if got, err := svc.MarkUnread(context.Background(), 7, 9, 4); err != nil || got != 3 {
		t.Fatalf("MarkUnread(4) = %d, %v; want 3", got, err)
	}
}

func TestMarkReadByNonMemberIsForbidden(t *testing.T) {
	st := &readStore{lastSeq: 10}
	svc, events := newReadService(st)
	_, err := svc.MarkRead(context.Background(), 7, 9, 4)
	if !errors.Is(err, chat.ErrForbidden) || len(*events) != 0 {
		t.Fatalf("non-member of a public room: %v, events %v", err, *events)
	}
}

func TestReceiptsAreReciprocal(t *testing.T) {
	st := &readStore{member: true}
	svc, _ := newReadService(st)
	if got, err := svc.ListReadReceipts(context.Background(), 7, 9); err != nil || len(got) != 0 {
		t.Fatalf("a user who does not share sees %v, %v", got, err)
	}
	st.settings.ShareReadReceipts = true
	if got, err := svc.ListReadReceipts(context.Background(), 7, 9); err != nil || len(got) != 1 {
		t.Fatalf("a user who shares sees %v, %v", got, err)
	}
}

func TestUpdateSettingsChangesOnlyWhatIsSet(t *testing.T) {
	st := &readStore{settings: chat.Settings{ShareReadReceipts: true}}
	svc, events := newReadService(st)
	ctx := context.Background()
	if set, err := svc.UpdateSettings(ctx, 7, chat.SettingsUpdate{}); err != nil || !set.ShareReadReceipts || len(*events) != 0 {
		t.Fatalf("empty update: %+v, %v, events %v", set, err, *events)
	}
	off := false
	set, err := svc.UpdateSettings(ctx, 7, chat.SettingsUpdate{ShareReadReceipts: &off})
	if err != nil || set.ShareReadReceipts || !slices.Equal(events.kinds(), []chat.EventKind{chat.SettingsChanged}) || (*events)[0].To != 7 {
		t.Fatalf("turning receipts off: %+v, %v, events %v", set, err, *events)
	}
}

func TestSetMutedTellsSessionsOnChange(t *testing.T) {
	st := &readStore{member: true}
	svc, events := newReadService(st)
	ctx := context.Background()
	for range 2 {
		room, err := svc.SetMuted(ctx, 7, 9, true)
		if err != nil || !room.Muted {
			t.Fatalf("SetMuted: %+v, %v", room, err)
		}
	}
	if !slices.Equal(events.kinds(), []chat.EventKind{chat.MuteChanged}) || !(*events)[0].Muted || (*events)[0].To != 7 {
		t.Fatalf("published %v, want one MuteChanged to the user", *events)
	}
}
