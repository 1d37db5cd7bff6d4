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

// unreadQueries count, per room, the entries after each watermark; %s is
// the OR of the rooms' ranges on the column named first.
var unreadQueries = []struct {
	column, sql string
}{
	{"seq", "SELECT room_id, COUNT(*) FROM timeline_changes WHERE %s GROUP BY room_id"},
	{"message_seq", "SELECT room_id, COUNT(*) FROM timeline_changes WHERE kind = ? AND (%s) GROUP BY room_id"},
	{"seq", "SELECT room_id, COUNT(*) FROM messages WHERE sender_id = ? AND deleted = FALSE AND (%s) GROUP BY room_id"},
	{"seq", "SELECT room_id, COUNT(DISTINCT seq) FROM mentions WHERE user_id IN (?, 0) AND sender_id <> ? AND (%s) GROUP BY room_id"},
}

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
	params := [][]any{nil, {changeCodes[chat.MessageDeleted]}, {userID}, {userID, userID}}
	var counts [4]map[int64]int64
	for i, q := range unreadQueries {
		where, args := afterWatermarks(q.column, rooms)
		if counts[i], err = countBy(ctx, tx, strings.Replace(q.sql, "%s", where, 1), append(params[i], args...)); err != nil {
			return err
		}
	}
	for id, r := range rooms {
		r.LastSeq = last[id]
		r.UnreadCount = r.LastSeq - r.ReadSeq - counts[0][id] - counts[1][id] - counts[2][id]
		r.MentionCount = counts[3][id]
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
