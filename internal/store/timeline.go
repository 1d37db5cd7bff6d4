package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Message returns the room's message with that seq.
func (s *Store) Message(ctx context.Context, roomID, seq int64) (chat.Message, error) {
	row, err := s.q.GetMessage(ctx, db.GetMessageParams{RoomID: roomID, Seq: seq})
	if err != nil {
		return chat.Message{}, notFound(err, "message %d not found in this room", seq)
	}
	return toMessage(row.Message, row.User), nil
}

// Edits returns a message's bodies before its edits, oldest first.
func (s *Store) Edits(ctx context.Context, roomID, seq int64) ([]chat.Edit, error) {
	rows, err := s.q.ListEdits(ctx, db.ListEditsParams{RoomID: roomID, MessageSeq: seq})
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.Edit, len(rows))
	for i, r := range rows {
		out[i] = chat.Edit{Body: r.Body, ReplacedAt: r.ReplacedAt}
	}
	return out, nil
}

// MemberIDs maps the lower-case usernames of the room's members among
// names to their ids; the collation matches them whatever their case.
func (s *Store) MemberIDs(ctx context.Context, roomID int64, names []string) (map[string]int64, error) {
	rows, err := s.q.ListMemberIDs(ctx, db.ListMemberIDsParams{RoomID: roomID, Usernames: names})
	if err != nil {
		return nil, domainError(err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[strings.ToLower(r.Username)] = r.ID
	}
	return out, nil
}

// changeCodes are the kinds of change as timeline_changes.kind stores them
// (see the migration), apart from the domain's numbering, which may change.
var changeCodes = map[chat.EventKind]int8{
	chat.MessageEdited: 2, chat.MessageDeleted: 3, chat.ReactionAdded: 4, chat.ReactionRemoved: 5,
}

// changeKind is the kind of change a stored code means.
func changeKind(code int8) chat.EventKind {
	for k, c := range changeCodes {
		if c == code {
			return k
		}
	}
	return 0
}

// errUnchanged ends a change's transaction that has nothing to write.
var errUnchanged = errors.New("nothing changed")

// ChangeMessage stores a change to a message and its log entry in one
// transaction: the room row's lock (the one the group commit of messages
// takes) gives the entry the room's next seq, and the message row's lock
// keeps c.Check's verdict true until the commit.
func (s *Store) ChangeMessage(ctx context.Context, c chat.Change) (int64, chat.Message, error) {
	var entry int64
	var msg chat.Message
	err := s.withSQLTx(ctx, func(tx *sql.Tx, q *db.Queries) error {
		entry = 0
		log, err := q.LockRoomLog(ctx, c.RoomID)
		if err != nil {
			return notFound(err, "room %d not found", c.RoomID)
		}
		row, err := q.LockMessage(ctx, db.LockMessageParams{RoomID: c.RoomID, Seq: c.MessageSeq})
		if err != nil {
			return notFound(err, "message %d not found in this room", c.MessageSeq)
		}
		msg = toMessage(row.Message, row.User)
		if err := c.Check(msg); err != nil {
			return err
		}
		if c.Kind == chat.MessageEdited {
			// The edited message replaces the old one in clients: whole.
			if msg.Attachments, err = attachmentsOf(ctx, q, c.RoomID, c.MessageSeq); err != nil {
				return err
			}
		}
		seq := log.LastSeq + 1
		if err := applyChange(ctx, tx, q, c, seq, &msg); err != nil {
			return err
		}
		if err := q.InsertChange(ctx, db.InsertChangeParams{
			RoomID: c.RoomID, Seq: seq, ChangeNo: log.ChangeCount + 1, Kind: changeCodes[c.Kind],
			MessageSeq: c.MessageSeq, UserID: c.UserID, Emoji: c.Emoji, CreatedAt: c.At,
		}); err != nil {
			return domainError(err)
		}
		entry = seq
		return domainError(q.AdvanceRoomLog(ctx, db.AdvanceRoomLogParams{LastSeq: seq, ChangeCount: log.ChangeCount + 1, ID: c.RoomID}))
	})
	if errors.Is(err, errUnchanged) {
		return 0, msg, nil
	}
	return entry, msg, err
}

// applyChange writes what the change does to the message (msg, updated to
// match), or returns errUnchanged when it does nothing.
func applyChange(ctx context.Context, tx *sql.Tx, q *db.Queries, c chat.Change, seq int64, msg *chat.Message) error {
	switch c.Kind {
	case chat.MessageEdited, chat.MessageDeleted:
		return rewrite(ctx, tx, q, c, seq, msg)
	case chat.ReactionAdded:
		return react(ctx, q, c, seq)
	case chat.ReactionRemoved:
		n, err := q.DeleteReaction(ctx, db.DeleteReactionParams{RoomID: c.RoomID, MessageSeq: c.MessageSeq, Emoji: c.Emoji, UserID: c.UserID})
		if err == nil && n == 0 {
			return errUnchanged
		}
		return domainError(err)
	}
	return errors.New("unknown change")
}

// rewrite edits or deletes the message and corrects the counts of the
// members behind it for what it no longer or newly mentions, or for its
// being gone.
func rewrite(ctx context.Context, tx *sql.Tx, q *db.Queries, c chat.Change, seq int64, msg *chat.Message) error {
	before, err := mentionsOf(ctx, q, c.RoomID, c.MessageSeq)
	if err != nil {
		return err
	}
	if c.Kind == chat.MessageEdited {
		err = edit(ctx, tx, q, c, seq, msg)
	} else {
		err = tombstone(ctx, q, c, msg)
	}
	if err != nil {
		return err
	}
	after := chat.Mentions{UserIDs: msg.MentionUserIDs, Room: msg.MentionsRoom}
	return adjustUnread(ctx, tx, c.RoomID, c.MessageSeq, msg.Sender.ID, c.Kind == chat.MessageDeleted, before, after)
}

// mentionsOf reads whom the message mentions now.
func mentionsOf(ctx context.Context, q *db.Queries, roomID, seq int64) (chat.Mentions, error) {
	rows, err := q.ListMentions(ctx, db.ListMentionsParams{RoomIds: []int64{roomID}, Seqs: []int64{seq}})
	var m chat.Mentions
	for _, r := range rows {
		if r.UserID == chat.RoomMention {
			m.Room = true
		} else {
			m.UserIDs = append(m.UserIDs, r.UserID)
		}
	}
	return m, domainError(err)
}

// edit keeps the old body and writes the new one with its mentions and
// search terms.
func edit(ctx context.Context, tx *sql.Tx, q *db.Queries, c chat.Change, seq int64, msg *chat.Message) error {
	if err := q.InsertEdit(ctx, db.InsertEditParams{RoomID: c.RoomID, MessageSeq: c.MessageSeq, EditSeq: seq, Body: msg.Body, ReplacedAt: c.At}); err != nil {
		return domainError(err)
	}
	if err := q.SetMessageBody(ctx, db.SetMessageBodyParams{Body: c.Body, EditedAt: sql.NullTime{Time: c.At, Valid: true}, RoomID: c.RoomID, Seq: c.MessageSeq}); err != nil {
		return domainError(err)
	}
	if err := q.DeleteMentions(ctx, db.DeleteMentionsParams{RoomID: c.RoomID, Seq: c.MessageSeq}); err != nil {
		return domainError(err)
	}
	if err := insertMentions(ctx, tx, []mentionRows{{c.RoomID, c.MessageSeq, msg.Sender.ID, c.Mentions}}); err != nil {
		return err
	}
	if err := q.DeleteTerms(ctx, db.DeleteTermsParams{RoomID: c.RoomID, Seq: c.MessageSeq}); err != nil {
		return domainError(err)
	}
	if err := insertTerms(ctx, tx, []indexed{{c.RoomID, c.MessageSeq, msg.Sender.ID, msg.CreatedAt, c.Body}}); err != nil {
		return err
	}
	msg.Body, msg.EditedAt, msg.MentionUserIDs, msg.MentionsRoom = c.Body, c.At, c.Mentions.UserIDs, c.Mentions.Room
	return nil
}

// tombstone removes everything the message said: its body, earlier
// bodies, reactions, mentions and search terms. A tombstone is left as it is.
func tombstone(ctx context.Context, q *db.Queries, c chat.Change, msg *chat.Message) error {
	if msg.Deleted {
		return errUnchanged
	}
	key := db.DeleteEditsParams{RoomID: c.RoomID, MessageSeq: c.MessageSeq}
	for _, err := range []error{
		q.TombstoneMessage(ctx, db.TombstoneMessageParams{RoomID: c.RoomID, Seq: c.MessageSeq}),
		q.DeleteEdits(ctx, key),
		q.DeleteReactions(ctx, db.DeleteReactionsParams(key)),
		q.DeleteMentions(ctx, db.DeleteMentionsParams{RoomID: c.RoomID, Seq: c.MessageSeq}),
		trashAttachments(ctx, q, c.RoomID, c.MessageSeq, c.At),
		q.DeleteTerms(ctx, db.DeleteTermsParams{RoomID: c.RoomID, Seq: c.MessageSeq}),
	} {
		if err != nil {
			return domainError(err)
		}
	}
	msg.Body, msg.Deleted, msg.EditedAt, msg.MentionUserIDs, msg.MentionsRoom, msg.Attachments = "", true, time.Time{}, nil, false, nil
	return nil
}

// react adds the reaction unless it is there, within MaxReactionEmoji
// distinct emoji per message.
func react(ctx context.Context, q *db.Queries, c chat.Change, seq int64) error {
	emoji, err := q.ReactionEmoji(ctx, db.ReactionEmojiParams{RoomID: c.RoomID, MessageSeq: c.MessageSeq})
	if err != nil {
		return domainError(err)
	}
	if len(emoji) >= chat.MaxReactionEmoji && !slices.Contains(emoji, c.Emoji) {
		return chat.Errorf(chat.ErrExhausted, "a message takes at most %d different emoji", chat.MaxReactionEmoji)
	}
	n, err := q.InsertReaction(ctx, db.InsertReactionParams{RoomID: c.RoomID, MessageSeq: c.MessageSeq, Emoji: c.Emoji, UserID: c.UserID, Seq: seq})
	if err == nil && n == 0 {
		return errUnchanged
	}
	return domainError(err)
}

// mentionRows are one message's mentions to store.
type mentionRows struct {
	room, seq, sender int64
	m                 chat.Mentions
}

// insertMentions stores the messages' mentions in one statement; @room is
// user 0.
func insertMentions(ctx context.Context, tx db.DBTX, msgs []mentionRows) error {
	var b strings.Builder
	var args []any
	for _, r := range msgs {
		ids := r.m.UserIDs
		if r.m.Room {
			ids = append(slices.Clip(ids), chat.RoomMention)
		}
		for pos, id := range ids {
			if len(args) > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?)")
			args = append(args, r.room, r.seq, id, r.sender, pos)
		}
	}
	if len(args) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO mentions (room_id, seq, user_id, sender_id, position) VALUES "+b.String(), args...)
	return domainError(err)
}
