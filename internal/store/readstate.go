package store

import (
	"context"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// roomsFor reads the rooms as the user sees them (see ListRoomsFor): one
// room, or with onlyRoom 0 every visible one, with the user's role,
// watermark and mute in those they are in; countUnread adds the counts.
func (s *Store) roomsFor(ctx context.Context, userID, onlyRoom int64) ([]chat.Room, []chat.Role, error) {
	rows, err := s.q.ListRoomsFor(ctx, db.ListRoomsForParams{UserID: userID, OnlyRoom: onlyRoom})
	if err != nil {
		return nil, nil, domainError(err)
	}
	rooms, roles := make([]chat.Room, len(rows)), make([]chat.Role, len(rows))
	for i, r := range rows {
		roles[i] = chat.Role(r.Role)
		rooms[i] = chat.Room{
			ID: r.ID, Name: r.Name, Topic: r.Topic, Visibility: chat.Visibility(r.Visibility),
			MemberCount: r.MemberCount, LastSeq: r.LastSeq, Joined: r.Role != 0, CreatedAt: r.CreatedAt,
			ReadSeq: r.ReadSeq, Muted: r.Muted != 0,
		}
	}
	return rooms, roles, nil
}

// countUnread fills in the unread and mention counts of the rooms the user
// is in. Counts are a function of the room's log up to last_seq and the
// watermark, both of which only a new entry or a MarkRead changes, so the
// ones counted before at the same (last_seq, read_seq) are still exact;
// only the others are counted (countUnreadIn).
func (s *Store) countUnread(ctx context.Context, userID int64, rooms []chat.Room) error {
	missed := map[int64]*chat.Room{}
	for i := range rooms {
		r := &rooms[i]
		if r.Joined && !s.counts.get(userID, r) {
			missed[r.ID] = r
		}
	}
	if len(missed) == 0 {
		return nil
	}
	if err := s.countUnreadIn(ctx, userID, missed); err != nil {
		return err
	}
	for _, r := range missed {
		s.counts.put(userID, *r)
	}
	return nil
}

// RoomFor loads a room with the user's role (0 for a non-member) and read
// state, unread counts included.
func (s *Store) RoomFor(ctx context.Context, userID, roomID int64) (chat.Room, chat.Role, error) {
	room, role, err := s.RoomRole(ctx, userID, roomID)
	if err != nil {
		return chat.Room{}, 0, err
	}
	rooms := []chat.Room{room}
	if err := s.countUnread(ctx, userID, rooms); err != nil {
		return chat.Room{}, 0, err
	}
	return rooms[0], role, nil
}

// RoomRole loads a room with the user's role (0 for a non-member),
// watermark and mute, without counting what is unread.
func (s *Store) RoomRole(ctx context.Context, userID, roomID int64) (chat.Room, chat.Role, error) {
	rooms, roles, err := s.roomsFor(ctx, userID, roomID)
	if err != nil {
		return chat.Room{}, 0, err
	}
	if len(rooms) == 0 {
		return chat.Room{}, 0, chat.Errorf(chat.ErrNotFound, "room %d not found", roomID)
	}
	return rooms[0], roles[0], nil
}

// MoveReadSeq moves the member's watermark to seq clamped to the room's
// last seq: forward only (advanceReadSeq, whose writes share commits), or
// back too when back is set. It reads the watermark without locking the
// room row, which every send to the room holds.
func (s *Store) MoveReadSeq(ctx context.Context, roomID, userID, seq int64, back bool) (chat.ReadMove, error) {
	if !back {
		return s.advanceReadSeq(ctx, roomID, userID, seq)
	}
	st, err := s.q.GetReadState(ctx, db.GetReadStateParams{RoomID: roomID, UserID: userID})
	if err != nil {
		return chat.ReadMove{}, domainError(err)
	}
	mv := chat.ReadMove{ReadSeq: st.ReadSeq, ShareReceipts: st.ShareReadReceipts}
	target := min(seq, st.LastSeq)
	if target == st.ReadSeq {
		return mv, nil
	}
	n, err := s.q.SetReadSeq(ctx, db.SetReadSeqParams{ReadSeq: target, RoomID: roomID, UserID: userID})
	if err != nil {
		return chat.ReadMove{}, domainError(err)
	}
	if n == 0 { // the member left meanwhile
		return chat.ReadMove{}, chat.ErrNotFound
	}
	mv.ReadSeq, mv.Changed = target, true
	return mv, nil
}

// ReadState is the member's watermark and receipts setting.
func (s *Store) ReadState(ctx context.Context, roomID, userID int64) (chat.ReadMove, error) {
	st, err := s.q.GetReadState(ctx, db.GetReadStateParams{RoomID: roomID, UserID: userID})
	if err != nil {
		return chat.ReadMove{}, domainError(err)
	}
	return chat.ReadMove{ReadSeq: st.ReadSeq, ShareReceipts: st.ShareReadReceipts}, nil
}

// SetMuted reports whether the member's mute changed.
func (s *Store) SetMuted(ctx context.Context, roomID, userID int64, muted bool) (bool, error) {
	n, err := s.q.SetMuted(ctx, db.SetMutedParams{Muted: muted, RoomID: roomID, UserID: userID})
	return n > 0, domainError(err)
}

// Receipts are the watermarks of the room's members who share them and
// have read anything.
func (s *Store) Receipts(ctx context.Context, roomID int64) ([]chat.Receipt, error) {
	rows, err := s.q.ListReceipts(ctx, roomID)
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.Receipt, len(rows))
	for i, r := range rows {
		out[i] = chat.Receipt{RoomID: roomID, UserID: r.UserID, ReadSeq: r.ReadSeq}
	}
	return out, nil
}

// SetSettings reports whether the user's settings changed.
func (s *Store) SetSettings(ctx context.Context, userID int64, set chat.Settings) (bool, error) {
	n, err := s.q.SetShareReadReceipts(ctx, db.SetShareReadReceiptsParams{ShareReadReceipts: set.ShareReadReceipts, ID: userID})
	return n > 0, domainError(err)
}
