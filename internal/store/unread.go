package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Keeping the unread counts (00003_read_counts.sql): a message carries its
// number among its sender's (senderNumbers), and each write that changes what lies
// after some members' watermarks corrects their memberships in the same
// transaction, under the room row's lock: a mention (adjustUnread), a
// delete or edit (adjustUnread again), a join (joinCounts). A move of the
// watermark corrects its own (moveWatermark).

// senderNumbers reads what the calls' messages continue from: each
// sender's last sender_no in the room. One statement of key lookups; the
// room rows are locked by the caller.
func senderNumbers(ctx context.Context, tx *sql.Tx, calls []*appendCall) (map[memberKey]int64, error) {
	var senders []memberKey
	for _, c := range calls {
		if k := (memberKey{c.m.RoomID, c.m.SenderID}); !slices.Contains(senders, k) {
			senders = append(senders, k)
		}
	}
	cols := make([]string, len(senders))
	args := make([]any, 0, 2*len(senders))
	for i, k := range senders {
		cols[i] = "(SELECT sender_no FROM messages WHERE room_id = ? AND sender_id = ? ORDER BY seq DESC LIMIT 1)"
		args = append(args, k.room, k.user)
	}
	vals := make([]sql.NullInt64, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := tx.QueryRowContext(ctx, "SELECT "+strings.Join(cols, ", "), args...).Scan(dest...); err != nil {
		return nil, domainError(err)
	}
	sent := make(map[memberKey]int64, len(senders))
	for i, k := range senders {
		sent[k] = vals[i].Int64
	}
	return sent, nil
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

// placeholders is n comma-separated question marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// joinCounts sets a new member's counts: with the watermark at 0, every
// change, deleted message of others and live one mentioning them or @room
// is after it. The caller holds the room row's lock, so no delete or mention
// of the room is half-way.
func joinCounts(ctx context.Context, q *db.Queries, roomID, userID, lastSeq int64) error {
	span, err := q.CountReadSpan(ctx, db.CountReadSpanParams{
		RoomID: roomID, UserID: userID, After: 0, UpTo: lastSeq, DeletedKind: changeCodes[chat.MessageDeleted],
	})
	if err != nil {
		return domainError(err)
	}
	// A move back from past the end: what it passes over becomes unread.
	_, err = q.SetReadSeq(ctx, db.SetReadSeqParams{Deleted: -span.Deleted, Mentions: -span.Mentions, RoomID: roomID, UserID: userID})
	return domainError(err)
}
