package store

import (
	"context"
	"slices"
	"strings"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// MessagesAfter returns up to limit messages with seq above afterSeq,
// ascending, in their current state as the viewer sees them.
func (s *Store) MessagesAfter(ctx context.Context, viewer, roomID, afterSeq int64, limit int) ([]chat.Message, error) {
	rows, err := s.q.ListMessagesAfter(ctx, db.ListMessagesAfterParams{RoomID: roomID, Seq: afterSeq, Limit: int32(limit)})
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.Message, len(rows))
	for i, r := range rows {
		out[i] = toMessage(r.Message, r.User)
	}
	return out, s.complete(ctx, viewer, out, true)
}

// MessagesBefore returns the newest limit messages with seq below beforeSeq,
// ascending, as MessagesAfter does.
func (s *Store) MessagesBefore(ctx context.Context, viewer, roomID, beforeSeq int64, limit int) ([]chat.Message, error) {
	rows, err := s.q.ListMessagesBefore(ctx, db.ListMessagesBeforeParams{RoomID: roomID, Seq: beforeSeq, Limit: int32(limit)})
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.Message, len(rows))
	for i, r := range rows {
		out[len(rows)-1-i] = toMessage(r.Message, r.User)
	}
	return out, s.complete(ctx, viewer, out, true)
}

// Entries returns the room log's entries in (after, upTo] as the events
// they were, in seq order: the messages created there and the changes
// (timeline_changes). Messages are in their current state without
// reactions, which the log's own reaction entries rebuild.
func (s *Store) Entries(ctx context.Context, roomID, after, upTo int64) ([]chat.Event, error) {
	rows, err := s.q.ListMessagesBetween(ctx, db.ListMessagesBetweenParams{RoomID: roomID, After: after, UpTo: upTo})
	if err != nil {
		return nil, domainError(err)
	}
	changes, err := s.q.ListChanges(ctx, db.ListChangesParams{RoomID: roomID, After: after, UpTo: upTo})
	if err != nil {
		return nil, domainError(err)
	}
	msgs := make([]chat.Message, len(rows))
	for i, r := range rows {
		msgs[i] = toMessage(r.Message, r.User)
	}
	edited, err := s.editedMessages(ctx, roomID, changes)
	if err != nil {
		return nil, err
	}
	all := append(msgs[:len(msgs):len(msgs)], edited...)
	if err := s.complete(ctx, 0, all, false); err != nil {
		return nil, err
	}
	return mergeEntries(roomID, all[:len(msgs)], changes, all[len(msgs):]), nil
}

// editedMessages loads the current state of the messages the changes edit.
func (s *Store) editedMessages(ctx context.Context, roomID int64, changes []db.TimelineChange) ([]chat.Message, error) {
	var seqs []int64
	for _, c := range changes {
		if changeKind(c.Kind) == chat.MessageEdited {
			seqs = append(seqs, c.MessageSeq)
		}
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	rows, err := s.q.ListMessagesAt(ctx, db.ListMessagesAtParams{RoomIds: []int64{roomID}, Seqs: seqs})
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.Message, len(rows))
	for i, r := range rows {
		out[i] = toMessage(r.Message, r.User)
	}
	return out, nil
}

// mergeEntries interleaves the created messages and the changes by seq.
func mergeEntries(roomID int64, msgs []chat.Message, changes []db.TimelineChange, edited []chat.Message) []chat.Event {
	bySeq := make(map[int64]*chat.Message, len(edited))
	for i := range edited {
		bySeq[edited[i].Seq] = &edited[i]
	}
	out := make([]chat.Event, 0, len(msgs)+len(changes))
	i := 0
	for _, c := range changes {
		for ; i < len(msgs) && msgs[i].Seq < c.Seq; i++ {
			out = append(out, chat.Event{Kind: chat.MessageCreated, RoomID: roomID, Message: &msgs[i]})
		}
		out = append(out, changeEvent(c, bySeq[c.MessageSeq]))
	}
	for ; i < len(msgs); i++ {
		out = append(out, chat.Event{Kind: chat.MessageCreated, RoomID: roomID, Message: &msgs[i]})
	}
	return out
}

// changeEvent is the event a change entry was.
func changeEvent(c db.TimelineChange, edited *chat.Message) chat.Event {
	e := chat.Event{Kind: changeKind(c.Kind), RoomID: c.RoomID, Entry: c.Seq, MessageSeq: c.MessageSeq, UserID: c.UserID, Emoji: c.Emoji}
	if e.Kind == chat.MessageEdited {
		e.Message = edited
	}
	return e
}

// msgKey names a message: its room and seq.
type msgKey struct{ room, seq int64 }

// msgKeys gathers the messages' keys as the key-set queries take them:
// the rooms and the seqs, whose every pair the queries read (ListMessagesAt).
type msgKeys struct {
	rooms, seqs []int64
}

func (k *msgKeys) add(key msgKey) {
	if !slices.Contains(k.rooms, key.room) {
		k.rooms = append(k.rooms, key.room)
	}
	if !slices.Contains(k.seqs, key.seq) {
		k.seqs = append(k.seqs, key.seq)
	}
}

// complete fills in what a message's row does not hold: the quote of the
// message it replies to, its mentions and, when asked, its reactions as the
// viewer sees them. The messages may be of several rooms; each is one
// statement whatever their number.
func (s *Store) complete(ctx context.Context, viewer int64, msgs []chat.Message, reactions bool) error {
	if len(msgs) == 0 {
		return nil
	}
	at := make(map[msgKey][]*chat.Message, len(msgs))
	var all, replied, mentioning msgKeys
	for i := range msgs {
		m := &msgs[i]
		k := msgKey{m.RoomID, m.Seq}
		at[k] = append(at[k], m)
		all.add(k)
		if m.ReplyTo != nil {
			replied.add(msgKey{m.RoomID, m.ReplyTo.Seq})
		}
		if strings.ContainsRune(m.Body, '@') {
			mentioning.add(k)
		}
	}
	if err := s.quote(ctx, msgs, replied); err != nil {
		return err
	}
	if err := s.mentions(ctx, at, mentioning); err != nil {
		return err
	}
	if err := s.attachments(ctx, at, all); err != nil {
		return err
	}
	if !reactions {
		return nil
	}
	return s.reactions(ctx, viewer, at, all)
}

// quote fills in the replies' quotes.
func (s *Store) quote(ctx context.Context, msgs []chat.Message, replied msgKeys) error {
	if len(replied.seqs) == 0 {
		return nil
	}
	rows, err := s.q.ListReplied(ctx, db.ListRepliedParams{RoomIds: replied.rooms, Seqs: replied.seqs})
	if err != nil {
		return domainError(err)
	}
	quotes := make(map[msgKey]chat.ReplyTo, len(rows))
	for _, r := range rows {
		quotes[msgKey{r.RoomID, r.Seq}] = chat.ReplyTo{Seq: r.Seq, Sender: toUser(r.User), Excerpt: r.Excerpt, Deleted: r.Deleted}
	}
	for i := range msgs {
		if r := msgs[i].ReplyTo; r != nil {
			q := quotes[msgKey{msgs[i].RoomID, r.Seq}]
			msgs[i].ReplyTo = &q
		}
	}
	return nil
}

func (s *Store) mentions(ctx context.Context, at map[msgKey][]*chat.Message, keys msgKeys) error {
	if len(keys.seqs) == 0 {
		return nil
	}
	rows, err := s.q.ListMentions(ctx, db.ListMentionsParams{RoomIds: keys.rooms, Seqs: keys.seqs})
	if err != nil {
		return domainError(err)
	}
	for _, r := range rows {
		for _, m := range at[msgKey{r.RoomID, r.Seq}] {
			if r.UserID == chat.RoomMention {
				m.MentionsRoom = true
			} else {
				m.MentionUserIDs = append(m.MentionUserIDs, r.UserID)
			}
		}
	}
	return nil
}

func (s *Store) reactions(ctx context.Context, viewer int64, at map[msgKey][]*chat.Message, keys msgKeys) error {
	rows, err := s.q.ListReactions(ctx, db.ListReactionsParams{Viewer: viewer, RoomIds: keys.rooms, Seqs: keys.seqs})
	if err != nil {
		return domainError(err)
	}
	for _, r := range rows {
		for _, m := range at[msgKey{r.RoomID, r.MessageSeq}] {
			m.Reactions = append(m.Reactions, chat.Reaction{Emoji: r.Emoji, Count: r.N, Me: r.Me == 1})
		}
	}
	return nil
}

func toMessage(m db.Message, u db.User) chat.Message {
	msg := chat.Message{
		ID: m.ID, RoomID: m.RoomID, Seq: m.Seq, Sender: toUser(u), Body: m.Body,
		ClientMsgID: m.ClientMsgID, CreatedAt: m.CreatedAt, EditedAt: m.EditedAt.Time, Deleted: m.Deleted,
	}
	if m.ReplyToSeq > 0 {
		msg.ReplyTo = &chat.ReplyTo{Seq: m.ReplyToSeq}
	}
	return msg
}
