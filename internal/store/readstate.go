package store

import (
	"context"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// roomsFor reads the rooms as the user sees them (see ListRoomsFor): one
// room, or with onlyRoom 0 every visible one, with the user's role and, in
// those they are in, their watermark, mute and counts.
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
			ReadSeq: r.ReadSeq, Muted: r.Muted != 0, UnreadCount: r.UnreadCount, MentionCount: r.MentionCount,
		}
	}
	return rooms, roles, nil
}

// RoomFor loads a room with the user's role (0 for a non-member) and read
// state, unread counts included.
func (s *Store) RoomFor(ctx context.Context, userID, roomID int64) (chat.Room, chat.Role, error) {
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
// back too when back is set. A forward move reads the room's last seq
// without locking the room row, which every send to the room holds.
func (s *Store) MoveReadSeq(ctx context.Context, roomID, userID, seq int64, back bool) (chat.ReadMove, error) {
	if !back {
		return s.advanceReadSeq(ctx, roomID, userID, seq)
	}
	st, err := s.q.GetReadState(ctx, db.GetReadStateParams{RoomID: roomID, UserID: userID})
	if err != nil {
		return chat.ReadMove{}, notFound(err, "you are not a member of room %d", roomID)
	}
	var target, from int64
	err = s.withTx(ctx, func(q *db.Queries) error {
		last, err := q.ShareRoomLog(ctx, roomID)
		if err != nil {
			return notFound(err, "room %d not found", roomID)
		}
		target = min(seq, last)
		from, err = moveWatermark(ctx, q, memberKey{roomID, userID}, target, true)
		return err
	})
	if err != nil {
		return chat.ReadMove{}, err
	}
	return chat.ReadMove{ReadSeq: target, Changed: target != from, ShareReceipts: st.ShareReadReceipts}, nil
}

// moveWatermark moves the member's watermark to target (forward only
// unless back) with the counts of what it passes over, and returns the
// watermark it found. The membership's lock comes first: a delete, edit or
// mention that changes the member's counts either committed before the
// count, which then sees it, or waits for the move and sees the watermark
// moved. One that did not change them (the member was past its message)
// cannot be in a forward move's span; a move back holds the room's lock
// in share mode (ShareRoomLog) to see it.
func moveWatermark(ctx context.Context, q *db.Queries, m memberKey, target int64, back bool) (int64, error) {
	from, err := q.LockReadSeq(ctx, db.LockReadSeqParams{RoomID: m.room, UserID: m.user})
	if err != nil {
		return 0, notFound(err, "you are not a member of room %d", m.room)
	}
	if target == from || (target < from && !back) {
		return from, nil
	}
	lo, hi, sign := from, target, int64(1)
	if target < from {
		lo, hi, sign = target, from, -1
	}
	span, err := q.CountReadSpan(ctx, db.CountReadSpanParams{
		RoomID: m.room, UserID: m.user, After: lo, UpTo: hi, DeletedKind: changeCodes[chat.MessageDeleted],
	})
	if err != nil {
		return 0, domainError(err)
	}
	_, err = q.SetReadSeq(ctx, db.SetReadSeqParams{
		Changes: sign * span.Changes, Own: sign * span.Own, Deleted: sign * span.Deleted, Mentions: sign * span.Mentions,
		ReadSeq: target, RoomID: m.room, UserID: m.user,
	})
	return from, domainError(err)
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
