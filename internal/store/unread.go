package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Keeping the unread counts (00003_read_counts.sql): a message counts for
// its sender in room_senders (countSent), and each write that changes what lies
// after some members' watermarks corrects their memberships in the same
// transaction, under the room row's lock: a mention (adjustUnread), a
// delete or edit (adjustUnread again), a join (joinCounts). A move of the
// watermark corrects its own (passWatermarks).

// countSent adds the calls' messages to their senders' counts in
// room_senders: one row a message, each a new row or one more, so the
// batch writes without reading the counts first. The room rows are locked
// by the caller.
func countSent(ctx context.Context, tx execer, calls []*appendCall) error {
	args := make([]any, 0, 2*len(calls))
	for _, c := range calls {
		args = append(args, c.m.RoomID, c.m.SenderID)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO room_senders (room_id, sender_id, sent) VALUES "+
		strings.TrimSuffix(strings.Repeat("(?,?,1),", len(calls)), ",")+" ON DUPLICATE KEY UPDATE sent = sent + 1", args...)
	return domainError(err)
}

// adjustUnread corrects the counts of the members behind the message at seq
// (watermark before it, sender aside) when it is deleted or its mentions go
// from before to after: a new message is one whose mentions were none.
func adjustUnread(ctx context.Context, tx db.DBTX, roomID, seq, senderID int64, deleted bool, before, after chat.Mentions) error {
	if !deleted && before.Room == after.Room && slices.Equal(before.UserIDs, after.UserIDs) {
		return nil
	}
	args := []any{0}
	if deleted {
		args[0] = 1
	}
	matches := func(m chat.Mentions) string {
		switch {
		case m.Room:
			return "1"
		case len(m.UserIDs) == 0:
			return "0"
		}
		for _, id := range m.UserIDs {
			args = append(args, id)
		}
		return "(user_id IN (" + placeholders(len(m.UserIDs)) + "))"
	}
	set := "unread_deleted = unread_deleted + ?, unread_mentions = unread_mentions + " + matches(after) + " - " + matches(before)
	where := " WHERE room_id = ? AND read_seq < ? AND user_id <> ?"
	args = append(args, roomID, seq, senderID)
	if !deleted && !before.Room && !after.Room { // only the named members' counts change
		named := append(slices.Clone(before.UserIDs), after.UserIDs...)
		where += " AND user_id IN (" + placeholders(len(named)) + ")"
		for _, id := range named {
			args = append(args, id)
		}
	}
	_, err := tx.ExecContext(ctx, "UPDATE memberships FORCE INDEX (PRIMARY) SET "+set+where, args...)
	return domainError(err)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// placeholders is n comma-separated question marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// joinCounts sets a new member's counts: with the watermark at 0, every
// deleted message of others and live one mentioning them or @room is after
// it (and no change or own message at or before it). The caller holds the
// room row's lock, so no delete or mention of the room is half-way.
func joinCounts(ctx context.Context, tx db.DBTX, roomID, userID, lastSeq int64) error {
	k := memberKey{roomID, userID}
	spans, err := countSpans(ctx, tx, []span{{k, 0, lastSeq}})
	if err != nil {
		return err
	}
	return writeCounts(ctx, tx, []countsWrite{{k, 0, spanCounts{deleted: -spans[0].deleted, mentions: -spans[0].mentions}}})
}

// span is the log entries (after, upTo] as one member sees them.
type span struct {
	key         memberKey
	after, upTo int64
}

// spanCounts is what a span holds for its member: changes, their own
// messages, others' deleted messages and others' live messages mentioning
// them or @room (a deleted message's mentions are deleted with it).
type spanCounts struct{ changes, own, deleted, mentions int64 }

// spanSQL counts one span. Its bounds are placeholders, not columns of a
// derived table, so that each count is a range of an index.
const spanSQL = `SELECT ? AS i,
  (SELECT COUNT(*) FROM timeline_changes t WHERE t.room_id = ? AND t.seq > ? AND t.seq <= ?),
  (SELECT COUNT(*) FROM messages o WHERE o.room_id = ? AND o.sender_id = ? AND o.seq > ? AND o.seq <= ?),
  (SELECT COUNT(*) FROM timeline_changes d JOIN messages m ON m.room_id = d.room_id AND m.seq = d.message_seq
    WHERE d.room_id = ? AND d.kind = ? AND d.message_seq > ? AND d.message_seq <= ? AND m.sender_id <> ?),
  (SELECT COUNT(DISTINCT n.seq) FROM mentions n
    WHERE n.room_id = ? AND n.user_id IN (?, 0) AND n.sender_id <> ? AND n.seq > ? AND n.seq <= ?)`

// countSpans counts the spans in one statement, in their order.
func countSpans(ctx context.Context, tx db.DBTX, spans []span) ([]spanCounts, error) {
	if len(spans) == 0 {
		return nil, nil
	}
	parts := make([]string, len(spans))
	var args []any
	for i, s := range spans {
		r, u := s.key.room, s.key.user
		parts[i] = spanSQL
		args = append(args, i, r, s.after, s.upTo, r, u, s.after, s.upTo,
			r, changeCodes[chat.MessageDeleted], s.after, s.upTo, u, r, u, u, s.after, s.upTo)
	}
	rows, err := tx.QueryContext(ctx, strings.Join(parts, "\nUNION ALL "), args...)
	if err != nil {
		return nil, domainError(err)
	}
	defer rows.Close()
	out := make([]spanCounts, len(spans))
	for rows.Next() {
		var i int
		var c spanCounts
		if err := rows.Scan(&i, &c.changes, &c.own, &c.deleted, &c.mentions); err != nil {
			return nil, domainError(err)
		}
		out[i] = c
	}
	return out, domainError(rows.Err())
}

// countsWrite sets a member's watermark and adds to the counts beside it
// what it passed over (negative when it went back).
type countsWrite struct {
	key     memberKey
	readSeq int64
	passed  spanCounts
}

// writeCounts makes the writes in one statement. STRAIGHT_JOIN keeps the
// planner from scanning memberships for the rows (on a small table it
// would), which would wait for the locks of other members' rows while
// holding these: each row is found by its primary key, as every write of
// the counts does (see lockReadStates).
func writeCounts(ctx context.Context, tx db.DBTX, writes []countsWrite) error {
	parts := make([]string, len(writes))
	var args []any
	for i, w := range writes {
		parts[i] = "SELECT ? AS room_id, ? AS user_id, ? AS read_seq, ? AS changes, ? AS own, ? AS deleted, ? AS mentions"
		args = append(args, w.key.room, w.key.user, w.readSeq, w.passed.changes, w.passed.own, w.passed.deleted, w.passed.mentions)
	}
	_, err := tx.ExecContext(ctx, `UPDATE (`+strings.Join(parts, " UNION ALL ")+`) w
STRAIGHT_JOIN memberships m FORCE INDEX (PRIMARY) ON m.room_id = w.room_id AND m.user_id = w.user_id
SET m.read_changes = m.read_changes + w.changes, m.read_own = m.read_own + w.own,
  m.unread_deleted = m.unread_deleted - w.deleted, m.unread_mentions = m.unread_mentions - w.mentions,
  m.read_seq = w.read_seq`, args...)
	return domainError(err)
}
