package chat

import (
	"context"
	"time"
	"unicode/utf8"
)

// ExcerptChars bounds the quote a reply carries of the message it answers.
const ExcerptChars = 200

// Change is one change to a message, stored with a log entry of its own.
type Change struct {
	// Kind is MessageEdited, MessageDeleted, ReactionAdded or
	// ReactionRemoved.
	Kind       EventKind
	RoomID     int64
	MessageSeq int64
	UserID     int64
	// Body and Mentions are an edit's.
	Body     string
	Mentions Mentions
	// Emoji is a reaction's.
	Emoji string
	At    time.Time
	// Check decides, with the message as it is (locked until the change
	// commits), whether the change may be made.
	Check func(Message) error
}

// EditMessage replaces the body of one of the caller's messages and tells
// the room; the earlier body is kept for ListEdits.
func (s *Service) EditMessage(ctx context.Context, userID, roomID, seq int64, body string) (Message, error) {
	body, err := cleanBody(body)
	if err != nil {
		return Message{}, err
	}
	if _, err := s.memberRole(ctx, userID, roomID); err != nil {
		return Message{}, err
	}
	mentions, err := s.mentions(ctx, roomID, body)
	if err != nil {
		return Message{}, err
	}
	c := Change{Kind: MessageEdited, RoomID: roomID, MessageSeq: seq, UserID: userID, Body: body, Mentions: mentions, Check: func(m Message) error {
		switch {
		case m.Sender.ID != userID:
			return Errorf(ErrForbidden, "you can only edit your own messages")
		case m.Deleted:
			return Errorf(ErrPrecondition, "message %d was deleted; it cannot be edited", seq)
		}
		return nil
	}}
	entry, msg, err := s.change(ctx, c)
	if err != nil {
		return Message{}, err
	}
	if msg.ReplyTo != nil {
		// The edit is committed: a quote that cannot be read now leaves the
		// bare seq rather than failing it.
		if q, err := s.quote(ctx, roomID, msg.ReplyTo.Seq); err == nil {
			msg.ReplyTo = q
		}
	}
	if entry != 0 {
		s.publish(ctx, Event{Kind: MessageEdited, RoomID: roomID, Entry: entry, Message: &msg})
	}
	return msg, nil
}

// DeleteMessage turns a message into a tombstone, its content gone, and
// tells the room. Its author or the room's owner may; deleting a tombstone
// again changes nothing.
func (s *Service) DeleteMessage(ctx context.Context, userID, roomID, seq int64) error {
	role, err := s.memberRole(ctx, userID, roomID)
	if err != nil {
		return err
	}
	c := Change{Kind: MessageDeleted, RoomID: roomID, MessageSeq: seq, UserID: userID, Check: func(m Message) error {
		if m.Sender.ID != userID && role != Owner {
			return Errorf(ErrForbidden, "only its author or the room's owner can delete a message")
		}
		return nil
	}}
	entry, _, err := s.change(ctx, c)
	if err != nil || entry == 0 {
		return err
	}
	s.publish(ctx, Event{Kind: MessageDeleted, RoomID: roomID, Entry: entry, MessageSeq: seq})
	if s.trash != nil {
		s.trash.Empty()
	}
	return nil
}

// React adds (add) or takes back the caller's reaction with one emoji and
// tells the room; doing either twice changes nothing.
func (s *Service) React(ctx context.Context, userID, roomID, seq int64, emoji string, add bool) error {
	emoji, err := cleanEmoji(emoji)
	if err != nil {
		return err
	}
	if _, err := s.memberRole(ctx, userID, roomID); err != nil {
		return err
	}
	kind := ReactionRemoved
	if add {
		kind = ReactionAdded
	}
	c := Change{Kind: kind, RoomID: roomID, MessageSeq: seq, UserID: userID, Emoji: emoji, Check: func(m Message) error {
		if m.Deleted && add {
			return Errorf(ErrPrecondition, "message %d was deleted; it takes no reactions", seq)
		}
		return nil
	}}
	entry, _, err := s.change(ctx, c)
	if err != nil || entry == 0 {
		return err
	}
	s.publish(ctx, Event{Kind: kind, RoomID: roomID, Entry: entry, MessageSeq: seq, Emoji: emoji, UserID: userID})
	return nil
}

// ListEdits returns the bodies a message had before its edits, oldest
// first.
func (s *Service) ListEdits(ctx context.Context, userID, roomID, seq int64) ([]Edit, error) {
	if _, err := s.memberRole(ctx, userID, roomID); err != nil {
		return nil, err
	}
	if _, err := s.store.Message(ctx, roomID, seq); err != nil {
		return nil, err
	}
	return s.store.Edits(ctx, roomID, seq)
}

// ListEvents returns up to limit entries of the room's log after afterSeq,
// and whether more follow.
func (s *Service) ListEvents(ctx context.Context, userID, roomID, afterSeq int64, limit int) ([]Event, bool, error) {
	if _, err := s.memberRole(ctx, userID, roomID); err != nil {
		return nil, false, err
	}
	room, err := s.store.Room(ctx, roomID)
	if err != nil {
		return nil, false, err
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	upTo := min(afterSeq+int64(min(limit, MaxPageSize)), room.LastSeq)
	if upTo <= afterSeq {
		return []Event{}, false, nil
	}
	entries, err := s.store.Entries(ctx, roomID, afterSeq, upTo)
	return entries, upTo < room.LastSeq, err
}

// change stamps and stores a change.
func (s *Service) change(ctx context.Context, c Change) (int64, Message, error) {
	c.At = s.now().UTC().Truncate(time.Microsecond)
	return s.store.ChangeMessage(ctx, c)
}

// mentions resolves the @usernames of a body to the room's members; names
// of non-members mention nobody.
func (s *Service) mentions(ctx context.Context, roomID int64, body string) (Mentions, error) {
	names, room := mentionNames(body)
	m := Mentions{Room: room}
	if len(names) == 0 {
		return m, nil
	}
	ids, err := s.store.MemberIDs(ctx, roomID, names)
	if err != nil {
		return Mentions{}, err
	}
	for _, n := range names {
		if id, ok := ids[n]; ok {
			m.UserIDs = append(m.UserIDs, id)
		}
	}
	return m, nil
}

// replyTo checks the message a new one answers and returns its quote.
func (s *Service) replyTo(ctx context.Context, roomID, seq int64) (*ReplyTo, error) {
	q, err := s.quote(ctx, roomID, seq)
	if err == nil && q.Deleted {
		return nil, Errorf(ErrPrecondition, "message %d was deleted; it cannot be answered", seq)
	}
	return q, err
}

// quote is what a reply shows of the message with that seq.
func (s *Service) quote(ctx context.Context, roomID, seq int64) (*ReplyTo, error) {
	m, err := s.store.Message(ctx, roomID, seq)
	if err != nil {
		return nil, err
	}
	return &ReplyTo{Seq: seq, Sender: m.Sender, Excerpt: excerpt(m.Body), Deleted: m.Deleted}, nil
}

// excerpt is the start of a body, at most ExcerptChars characters.
func excerpt(body string) string {
	if utf8.RuneCountInString(body) <= ExcerptChars {
		return body
	}
	return string([]rune(body)[:ExcerptChars])
}

// memberRole is the caller's role in a room they are a member of, or
// requireMember's error.
func (s *Service) memberRole(ctx context.Context, userID, roomID int64) (Role, error) {
	role, err := s.store.Role(ctx, roomID, userID)
	if err == nil {
		return role, nil
	}
	return 0, s.requireMember(ctx, userID, roomID)
}
