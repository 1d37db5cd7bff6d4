package store

import (
	"context"
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
	return out, s.complete(ctx, roomID, viewer, out, true)
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
	return out, s.complete(ctx, roomID, viewer, out, true)
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
	if err := s.complete(ctx, roomID, 0, all, false); err != nil {
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
	rows, err := s.q.ListMessagesAt(ctx, db.ListMessagesAtParams{RoomID: roomID, Seqs: seqs})
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

// complete fills in what a message's row does not hold: the quote of the
// message it replies to, its mentions and, when asked, its reactions as the
// viewer sees them.
func (s *Store) complete(ctx context.Context, roomID, viewer int64, msgs []chat.Message, reactions bool) error {
	if len(msgs) == 0 {
		return nil
	}
	at := make(map[int64][]*chat.Message, len(msgs))
	var seqs, replied, mentioning []int64
	for i := range msgs {
		m := &msgs[i]
		at[m.Seq] = append(at[m.Seq], m)
		seqs = append(seqs, m.Seq)
		if m.ReplyTo != nil {
			replied = append(replied, m.ReplyTo.Seq)
		}
		if strings.ContainsRune(m.Body, '@') {
			mentioning = append(mentioning, m.Seq)
		}
	}
	if err := s.quote(ctx, roomID, msgs, replied); err != nil {
		return err
	}
	if err := s.mentions(ctx, roomID, at, mentioning); err != nil {
		return err
	}
	if err := s.attachments(ctx, roomID, at, seqs); err != nil {
		return err
	}
	if !reactions {
		return nil
	}
	return s.reactions(ctx, roomID, viewer, at, seqs)
}

// quote fills in the replies' quotes.
func (s *Store) quote(ctx context.Context, roomID int64, msgs []chat.Message, replied []int64) error {
	if len(replied) == 0 {
		return nil
	}
	rows, err := s.q.ListReplied(ctx, db.ListRepliedParams{RoomID: roomID, Seqs: replied})
	if err != nil {
		return domainError(err)
	}
	quotes := make(map[int64]chat.ReplyTo, len(rows))
	for _, r := range rows {
		quotes[r.Seq] = chat.ReplyTo{Seq: r.Seq, Sender: toUser(r.User), Excerpt: r.Excerpt, Deleted: r.Deleted}
	}
	for i := range msgs {
		if r := msgs[i].ReplyTo; r != nil {
			q := quotes[r.Seq]
			msgs[i].ReplyTo = &q
		}
	}
	return nil
}

func (s *Store) mentions(ctx context.Context, roomID int64, at map[int64][]*chat.Message, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	rows, err := s.q.ListMentions(ctx, db.ListMentionsParams{RoomID: roomID, Seqs: seqs})
	if err != nil {
		return domainError(err)
	}
	for _, r := range rows {
		for _, m := range at[r.Seq] {
			if r.UserID == chat.RoomMention {
				m.MentionsRoom = true
			} else {
				m.MentionUserIDs = append(m.MentionUserIDs, r.UserID)
			}
		}
	}
	return nil
}

func (s *Store) reactions(ctx context.Context, roomID, viewer int64, at map[int64][]*chat.Message, seqs []int64) error {
	rows, err := s.q.ListReactions(ctx, db.ListReactionsParams{Viewer: viewer, RoomID: roomID, Seqs: seqs})
	if err != nil {
		return domainError(err)
	}
	for _, r := range rows {
		for _, m := range at[r.MessageSeq] {
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
