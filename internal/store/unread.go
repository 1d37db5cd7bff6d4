package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parley-chat/parley/internal/chat"
)

// Counting unread messages and mentions. Each room's figures are counts of
// index entries after the member's watermark, which MySQL reads as a range
// only when the watermark is a constant: in a correlated subquery
// (`seq > mine.read_seq`) it uses the key's equality part alone and reads
// every own message, delete and mention of the room. So the watermarks go
// into the statements as values, one range per room, OR-ed together (sqlc
// cannot express that list, hence the hand-written SQL), and each statement
// reads only what lies after them:
//
//	unread = (last_seq - read_seq)          entries after the watermark
//	       - changes after it                the other entries are messages
//	       - deletes of messages after it
//	       - the member's own live messages after it
//	mentions = messages after it mentioning the member or @room, not theirs
//	           (a deleted message's mentions are deleted with it)
//
// The statements share one snapshot (a read-only REPEATABLE READ
// transaction), so the figures agree with the last_seq read beside them.

// unreadQuery counts, per room, the entries after each watermark: %s is
// the OR of the rooms' ranges on column, args the values before it.
type unreadQuery struct {
	column, sql string
	args        func(userID int64) []any
}

// The counts after the watermarks: changes, deletes of messages, the
// member's own live messages, and the messages mentioning them or @room.
var (
	changesAfter = unreadQuery{"seq", "SELECT room_id, COUNT(*) FROM timeline_changes WHERE %s GROUP BY room_id",
		func(int64) []any { return nil }}
	deletesAfter = unreadQuery{"message_seq", "SELECT room_id, COUNT(*) FROM timeline_changes WHERE kind = ? AND (%s) GROUP BY room_id",
		func(int64) []any { return []any{changeCodes[chat.MessageDeleted]} }}
	ownAfter = unreadQuery{"seq", "SELECT room_id, COUNT(*) FROM messages WHERE sender_id = ? AND deleted = FALSE AND (%s) GROUP BY room_id",
		func(u int64) []any { return []any{u} }}
	mentionsAfter = unreadQuery{"seq", "SELECT room_id, COUNT(DISTINCT seq) FROM mentions WHERE user_id IN (?, 0) AND sender_id <> ? AND (%s) GROUP BY room_id",
		func(u int64) []any { return []any{u, u} }}
)

// countUnreadIn counts the rooms' unread messages and mentions at their
// ReadSeq, setting LastSeq to the snapshot's.
func (s *Store) countUnreadIn(ctx context.Context, userID int64, rooms map[int64]*chat.Room) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return domainError(err)
	}
	defer tx.Rollback() // read only: it ends the snapshot, nothing to undo
	ids, in := make([]any, 0, len(rooms)), make([]string, 0, len(rooms))
	for id := range rooms {
		ids, in = append(ids, id), append(in, "?")
	}
	last, err := countBy(ctx, tx, "SELECT id, last_seq FROM rooms WHERE id IN ("+strings.Join(in, ",")+")", ids)
	if err != nil {
		return err
	}
	count := func(q unreadQuery) map[int64]int64 {
		if err != nil {
			return nil
		}
		where, args := afterWatermarks(q.column, rooms)
		var n map[int64]int64
		n, err = countBy(ctx, tx, strings.Replace(q.sql, "%s", where, 1), append(q.args(userID), args...))
		return n
	}
	changes, deletes, own, mentions := count(changesAfter), count(deletesAfter), count(ownAfter), count(mentionsAfter)
	if err != nil {
		return err
	}
	for id, r := range rooms {
		r.LastSeq = last[id]
		r.UnreadCount = r.LastSeq - r.ReadSeq - changes[id] - deletes[id] - own[id]
		r.MentionCount = mentions[id]
	}
	return nil
}

// afterWatermarks is the OR of each room's range after its watermark.
func afterWatermarks(column string, rooms map[int64]*chat.Room) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 2*len(rooms))
	for id, r := range rooms {
		if len(args) > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("(room_id = ? AND " + column + " > ?)")
		args = append(args, id, r.ReadSeq)
	}
	return b.String(), args
}

// countBy runs a query of (id, count) rows.
func countBy(ctx context.Context, tx *sql.Tx, query string, args []any) (map[int64]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, domainError(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, domainError(err)
		}
		out[id] = n
	}
	return out, domainError(rows.Err())
}
