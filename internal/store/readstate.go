package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// roomsFor reads the rooms as the user sees them (see ListRoomsFor): these
// rooms, or with none every visible one, with the user's role and, in
// those they are in, their watermark, mute and counts; a direct or group
// room with its members. The whole list reads the rooms, the members and
// the user at once on three connections: it is the longest read a client
// waits for (after every reconnect), and no statement needs another's
// answer.
func (s *Store) roomsFor(ctx context.Context, userID int64, roomIDs ...int64) ([]chat.Room, []chat.Role, error) {
	if len(roomIDs) > 0 {
		rows, err := s.q.ListRoomsFor(ctx, db.ListRoomsForParams{UserID: userID, RoomIds: roomIDs})
		if err != nil {
			return nil, nil, domainError(err)
		}
		rooms, roles, joined := toRooms(rows)
		return rooms, roles, s.conversationMembers(ctx, userID, rooms, joined)
	}
	var rows []db.ListRoomsForRow
	var others []db.ListMyConversationMembersRow
	var me chat.User
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		rows, err = s.q.ListRoomsFor(gctx, db.ListRoomsForParams{UserID: userID, AllRooms: 1})
		return domainError(err)
	})
	g.Go(func() (err error) {
		others, err = s.q.ListMyConversationMembers(gctx, userID)
		return domainError(err)
	})
	g.Go(func() (err error) {
		me, err = s.User(gctx, userID)
		if errors.Is(err, chat.ErrNotFound) {
			return nil // no such user, so no membership to show them in
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	rooms, roles, joined := toRooms(rows)
	members := make([]db.ListConversationMembersRow, len(others))
	for i, o := range others {
		members[i] = db.ListConversationMembersRow(o)
	}
	addMembers(rooms, joined, members, me)
	return rooms, roles, nil
}

// toRooms converts ListRoomsFor's rows, with when the user joined each
// (invalid where they are not a member).
func toRooms(rows []db.ListRoomsForRow) ([]chat.Room, []chat.Role, []sql.NullTime) {
	rooms, roles := make([]chat.Room, len(rows)), make([]chat.Role, len(rows))
	joined := make([]sql.NullTime, len(rows))
	for i, r := range rows {
		joined[i] = r.JoinedAt
		roles[i] = chat.Role(r.Role)
		rooms[i] = chat.Room{
			ID: r.ID, Name: r.Name, Topic: r.Topic, Visibility: chat.Visibility(r.Visibility),
			MemberCount: r.MemberCount, LastSeq: r.LastSeq, Joined: r.Role != 0, CreatedAt: r.CreatedAt,
			ReadSeq: r.ReadSeq, Muted: r.Muted != 0, UnreadCount: r.UnreadCount, MentionCount: r.MentionCount,
			Kind: chat.RoomKind(r.Kind),
		}
	}
	return rooms, roles, joined
}

// RoomsFor loads the rooms of these ids that exist, as RoomFor does, in
// id order, in at most three statements however many they are.
func (s *Store) RoomsFor(ctx context.Context, userID int64, roomIDs []int64) ([]chat.Room, []chat.Role, error) {
	if len(roomIDs) == 0 {
		return nil, nil, nil
	}
	return s.roomsFor(ctx, userID, roomIDs...)
}

// RoomFor loads a room with the user's role (0 for a non-member) and read
// state, unread counts included.
func (s *Store) RoomFor(ctx context.Context, userID, roomID int64) (chat.Room, chat.Role, error) {
	rooms, roles, err := s.RoomsFor(ctx, userID, []int64{roomID})
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
	k := memberKey{roomID, userID}
	var mv chat.ReadMove
	err := s.withSQLTx(ctx, func(tx *sql.Tx, q *db.Queries) error {
		last, err := q.ShareRoomLog(ctx, roomID)
		if err != nil {
			return notFound(err, "room %d not found", roomID)
		}
		states, err := lockReadStates(ctx, tx, []memberKey{k})
		st, ok := states[k]
		if err != nil || !ok {
			return cmp.Or(err, chat.Errorf(chat.ErrNotFound, "you are not a member of room %d", roomID))
		}
		target := min(seq, last)
		mv = chat.ReadMove{ReadSeq: target, Changed: target != st.readSeq, ShareReceipts: st.share}
		return passWatermarks(ctx, tx, []watermarkMove{{key: k, from: st.readSeq, to: target}})
	})
	return mv, err
}

// watermarkMove is a member's watermark going from one seq to another.
// blank says the span holds nothing the counts keep (see readState.clear).
type watermarkMove struct {
	key      memberKey
	from, to int64
	blank    bool
}

// passWatermarks moves the members' watermarks, whose rows the caller
// locked (lockReadStates), with the counts of what each passes over: two
// statements whatever the number of members, one counting and one writing,
// or only the write when every span is blank. The memberships' locks come
// first: a delete, edit or mention that changes a member's counts either
// committed before the count, which then sees it, or waits for the move
// and sees the watermark moved. One that did not change them (the member
// was past its message) cannot be in a forward move's span; a move back
// holds the room's lock in share mode (ShareRoomLog) to see it.
func passWatermarks(ctx context.Context, tx *sql.Tx, moves []watermarkMove) error {
	moves = slices.DeleteFunc(slices.Clone(moves), func(m watermarkMove) bool { return m.from == m.to })
	if len(moves) == 0 {
		return nil
	}
	var spans []span
	for _, m := range moves {
		if !m.blank {
			spans = append(spans, span{m.key, min(m.from, m.to), max(m.from, m.to)})
		}
	}
	counts, err := countSpans(ctx, tx, spans)
	if err != nil {
		return err
	}
	writes := make([]countsWrite, len(moves))
	for i, m := range moves {
		w := countsWrite{key: m.key, readSeq: m.to}
		if !m.blank {
			c, n := counts[0], int64(1)
			if counts = counts[1:]; m.to < m.from {
				n = -1
			}
			w.passed = spanCounts{n * c.changes, n * c.own, n * c.deleted, n * c.mentions}
		}
		writes[i] = w
	}
	return writeCounts(ctx, tx, writes)
}

// readState is a member's watermark, the room's last seq and the member's
// receipts setting. clear says nothing the counts keep lies after the
// watermark up to lastSeq: no change of the room (the room's change count
// equals the member's), no message of the member's own (their last number
// equals theirs), no mention; then a forward move has nothing to count.
// lastSeq and the room's change count come from one read, so a change
// that count misses has a seq past lastSeq, where no move goes.
type readState struct {
	readSeq, lastSeq int64
	share, clear     bool
}

// lockReadStates reads the members' watermarks under their rows' locks, in
// one statement by the primary key; a member left out of the answer is not
// one. Every write of the counts goes by that key (FORCE INDEX), as the
// deletes and mentions that change many members' counts do, so that no two
// take the same locks in different orders. The room's last seq and the
// receipts setting come from subqueries, which a locking read does not lock
// (on MySQL and on MariaDB, at READ COMMITTED): the room row is every
// send's lock.
func lockReadStates(ctx context.Context, tx *sql.Tx, keys []memberKey) (map[memberKey]readState, error) {
	parts := make([]string, len(keys))
	args := make([]any, 0, 2*len(keys))
	for i, k := range keys {
		parts[i] = "(m.room_id = ? AND m.user_id = ?)"
		args = append(args, k.room, k.user)
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.room_id, m.user_id, m.read_seq,
  (SELECT r.last_seq FROM rooms r WHERE r.id = m.room_id),
  (SELECT u.share_read_receipts FROM users u WHERE u.id = m.user_id),
  (SELECT r.change_count FROM rooms r WHERE r.id = m.room_id) = m.read_changes
    AND COALESCE((SELECT s.sent FROM room_senders s WHERE s.room_id = m.room_id AND s.sender_id = m.user_id), 0) = m.read_own
    AND m.unread_mentions = 0
FROM memberships m FORCE INDEX (PRIMARY) WHERE `+strings.Join(parts, " OR ")+" FOR UPDATE", args...)
	if err != nil {
		return nil, domainError(err)
	}
	defer rows.Close()
	out := make(map[memberKey]readState, len(keys))
	for rows.Next() {
		var k memberKey
		var st readState
		if err := rows.Scan(&k.room, &k.user, &st.readSeq, &st.lastSeq, &st.share, &st.clear); err != nil {
			return nil, domainError(err)
		}
		out[k] = st
	}
	return out, domainError(rows.Err())
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
	n, err := s.q.SetSettings(ctx, db.SetSettingsParams{ShareReadReceipts: set.ShareReadReceipts, DmPolicy: int8(set.DmPolicy), ID: userID})
	return n > 0, domainError(err)
}
