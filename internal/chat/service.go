package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Limits of the chat rules.
const (
	MaxBodyChars    = 4000
	DefaultPageSize = 50
	MaxPageSize     = 200
	TypingWindow    = 3 * time.Second
)

// Service applies the chat rules on top of a Store, tells live connections
// through a Publisher, and looks up presence.
type Service struct {
	store    Store
	presence Presence
	events   Publisher
	throttle Throttle
	log      *slog.Logger
	now      func() time.Time
	// coalescer bounds receipts and directory listings (coalesce).
	coalescer coalescer
	// trash deletes deleted messages' files from the blob store; nil when
	// nothing is wired (unit tests).
	trash Trash
}

// Trash is told when a deletion left files to remove from the blob store.
type Trash interface {
	// Empty deletes the queued files soon, off the caller's path.
	Empty()
}

// UseTrash wires the files' sweeper: set once while assembling the
// process, before serving.
func (s *Service) UseTrash(t Trash) { s.trash = t }

// NewService wires the service to its adapters.
func NewService(store Store, presence Presence, events Publisher, throttle Throttle, log *slog.Logger) *Service {
	return &Service{store: store, presence: presence, events: events, throttle: throttle, log: log, now: time.Now}
}

// ListRooms returns the public rooms and the caller's private ones.
func (s *Service) ListRooms(ctx context.Context, userID int64) ([]Room, error) {
	return s.store.VisibleRooms(ctx, userID)
}

// CreateRoom creates a room owned by the caller.
func (s *Service) CreateRoom(ctx context.Context, r NewRoom) (Room, error) {
	var err error
	if r.Name, err = cleanName(r.Name); err != nil {
		return Room{}, err
	}
	if r.Topic, err = cleanText("the topic", r.Topic); err != nil {
		return Room{}, err
	}
	if r.Visibility == 0 {
		r.Visibility = Public
	}
	room, owner, err := s.store.CreateRoom(ctx, r)
	if err != nil {
		return Room{}, err
	}
	s.memberJoined(ctx, room, owner)
	return room, nil
}

// JoinRoom makes the caller a member of a public room; private rooms are
// joined only through AddMember.
func (s *Service) JoinRoom(ctx context.Context, userID, roomID int64) (Room, error) {
	room, role, err := hidePrivate(s.store.RoomFor(ctx, userID, roomID))
	if err != nil {
		return Room{}, err
	}
	if role != 0 {
		return room, nil
	}
	if room.Visibility != Public {
		return Room{}, notFound(roomID)
	}
	m, added, err := s.store.AddMember(ctx, roomID, userID, Member)
	if err != nil {
		return Room{}, err
	}
	if room, err = s.roomFor(ctx, userID, roomID); err != nil {
		return Room{}, err
	}
	if added {
		s.memberJoined(ctx, room, m)
	}
	return room, nil
}

// LeaveRoom ends the caller's membership. Leaving a room one is not in is
// not an error.
func (s *Service) LeaveRoom(ctx context.Context, userID, roomID int64) error {
	room, _, err := s.visibleRoom(ctx, userID, roomID)
	if err != nil {
		return err
	}
	if err := mayLeave(room); err != nil {
		return err
	}
	return s.removeMember(ctx, roomID, userID)
}

// AddMember adds a user by username: to a channel its owner does, to a
// group any member (see mayAddTo).
func (s *Service) AddMember(ctx context.Context, callerID, roomID int64, username string) (Membership, error) {
	user, err := s.store.UserByUsername(ctx, username)
	if err != nil {
		return Membership{}, err
	}
	if err := s.mayAddTo(ctx, callerID, roomID, user.ID); err != nil {
		return Membership{}, err
	}
	m, added, err := s.store.AddMember(ctx, roomID, user.ID, Member)
	if err != nil {
		return Membership{}, err
	}
	if !added {
		return m, nil
	}
	// The room as the newcomer sees it, with their read state. Its last seq
	// is a safe start for their live delivery: connections catch up from
	// the store whatever came after it.
	room, err := s.roomFor(ctx, user.ID, roomID)
	if err != nil {
		return Membership{}, err
	}
	s.memberJoined(ctx, room, m)
	return m, nil
}

// RemoveMember lets a room's owner remove a member.
func (s *Service) RemoveMember(ctx context.Context, callerID, roomID, userID int64) error {
	if _, err := s.requireOwner(ctx, callerID, roomID); err != nil {
		return err
	}
	return s.removeMember(ctx, roomID, userID)
}

// ListMembers returns a room's members with their online state.
func (s *Service) ListMembers(ctx context.Context, userID, roomID int64) ([]Membership, error) {
	if _, _, err := s.visibleRoom(ctx, userID, roomID); err != nil {
		return nil, err
	}
	members, err := s.store.Members(ctx, roomID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = m.User.ID
	}
	online, err := s.presence.Online(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range members {
		members[i].Online = online[members[i].User.ID]
	}
	return members, nil
}

// SendMessage stores a message and tells the room. Retries with the same
// client id return the stored message; the same id with another body is a
// conflict.
func (s *Service) SendMessage(ctx context.Context, m NewMessage) (Message, error) {
	body, err := cleanBody(m.Body)
	if err != nil && !onlyAttachments(m) {
		return Message{}, err
	}
	m.Body = body
	var quote *ReplyTo
	if m.ReplyToSeq != 0 {
		// The quote is read before the send: only a member may learn
		// whether the message answered exists.
		if err := s.requireMember(ctx, m.SenderID, m.RoomID); err != nil {
			return Message{}, err
		}
		if quote, err = s.replyTo(ctx, m.RoomID, m.ReplyToSeq); err != nil {
			return Message{}, err
		}
	}
	if m.Mentions, err = s.mentions(ctx, m.RoomID, m.Body); err != nil {
		return Message{}, err
	}
	m.CreatedAt = s.now().UTC().Truncate(time.Microsecond) // MySQL keeps microseconds
	msg, created, err := s.store.AppendMessage(ctx, m)
	if errors.Is(err, ErrNotFound) {
		// AppendMessage checks the sender's membership (once for a batch
		// of sends); a non-member gets requireMember's answer, as on
		// every other call.
		if merr := s.requireMember(ctx, m.SenderID, m.RoomID); merr != nil {
			return Message{}, merr
		}
	}
	if err != nil {
		return Message{}, err
	}
	msg.ReplyTo, msg.MentionUserIDs, msg.MentionsRoom = quote, m.Mentions.UserIDs, m.Mentions.Room
	if !created {
		if msg.Body != m.Body {
			return Message{}, Errorf(ErrConflict, "client_msg_id %q was already used for a different message", m.ClientMsgID)
		}
		return msg, nil
	}
	s.publish(ctx, Event{Kind: MessageCreated, RoomID: m.RoomID, Message: &msg})
	s.unhideConversation(ctx, m.RoomID)
	// The message ends its sender's typing, which clients stop showing: the
	// next keystroke is news again, not a repeat within TypingWindow. Off
	// the send's path, since typing is a hint.
	go s.endTyping(context.WithoutCancel(ctx), m.RoomID, m.SenderID)
	return msg, nil
}

func (s *Service) endTyping(ctx context.Context, roomID, userID int64) {
	if err := s.throttle.Reset(ctx, typingKey(roomID, userID)); err != nil {
		s.log.DebugContext(ctx, "reset typing window", "room_id", roomID, "err", err)
	}
}

func typingKey(roomID, userID int64) string { return fmt.Sprintf("typing:%d:%d", roomID, userID) }

// Page selects part of a room's history: messages after AfterSeq when
// FromAfter is set, around AroundSeq when that is set, otherwise the newest
// ones below BeforeSeq (if set).
type Page struct {
	BeforeSeq, AfterSeq int64
	FromAfter           bool
	AroundSeq           int64
	Limit               int
}

// ListMessages returns a page of history, ascending by seq, and whether more
// lies beyond it in the direction asked for.
func (s *Service) ListMessages(ctx context.Context, userID, roomID int64, p Page) ([]Message, bool, error) {
	if err := s.requireMember(ctx, userID, roomID); err != nil {
		return nil, false, err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	if p.AroundSeq > 0 {
		if p.FromAfter || p.BeforeSeq > 0 {
			return nil, false, Errorf(ErrInvalid, "around_seq pages on its own; leave before_seq and after_seq unset")
		}
		return s.pageAround(ctx, userID, roomID, p.AroundSeq, limit)
	}
	if p.FromAfter {
		return s.pageAfter(ctx, userID, roomID, p.AfterSeq, p.BeforeSeq, limit)
	}
	before := p.BeforeSeq
	if before == 0 {
		before = math.MaxInt64
	}
	msgs, err := s.store.MessagesBefore(ctx, userID, roomID, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(msgs) > limit {
		return msgs[1:], true, nil
	}
	return msgs, false, nil
}

// pageAround is the message at seq (or the nearest one before it) with
// the rest of the limit split about evenly before and after it, so a
// search hit opens with context; more is whether the room has messages
// beyond the page on either side.
func (s *Service) pageAround(ctx context.Context, userID, roomID, seq int64, limit int) ([]Message, bool, error) {
	newer := limit / 2
	older := limit - newer // includes the message at seq
	before, err := s.store.MessagesBefore(ctx, userID, roomID, seq+1, older+1)
	if err != nil {
		return nil, false, err
	}
	after, err := s.store.MessagesAfter(ctx, userID, roomID, seq, newer+1)
	if err != nil {
		return nil, false, err
	}
	more := len(before) > older || len(after) > newer
	if len(before) > older {
		before = before[1:]
	}
	return append(before, after[:min(len(after), newer)]...), more, nil
}

func (s *Service) pageAfter(ctx context.Context, userID, roomID, after, before int64, limit int) ([]Message, bool, error) {
	msgs, err := s.store.MessagesAfter(ctx, userID, roomID, after, limit+1)
	if err != nil {
		return nil, false, err
	}
	for i, m := range msgs {
		if before > 0 && m.Seq >= before {
			return msgs[:i], false, nil
		}
	}
	if len(msgs) > limit {
		return msgs[:limit], true, nil
	}
	return msgs, false, nil
}

// Typing relays that the user is typing, at most once per TypingWindow per
// user and room. Throttled calls succeed silently: typing is a hint.
func (s *Service) Typing(ctx context.Context, userID, roomID int64) error {
	if err := s.requireMember(ctx, userID, roomID); err != nil {
		return err
	}
	ok, err := s.throttle.Once(ctx, typingKey(roomID, userID), TypingWindow)
	if err != nil || !ok {
		return err
	}
	s.publish(ctx, Event{Kind: Typing, RoomID: roomID, UserID: userID})
	return nil
}

// PresenceChanged tells each of the user's rooms, and each of their
// friends (a per-user event without a room), that they came online or went
// offline.
func (s *Service) PresenceChanged(ctx context.Context, userID int64, online bool) error {
	rooms, err := s.store.RoomIDsOf(ctx, userID)
	if err != nil {
		return err
	}
	for _, r := range rooms {
		s.publish(ctx, Event{Kind: PresenceChanged, RoomID: r, UserID: userID, Online: online})
	}
	s.tellFriends(ctx, userID, Event{Kind: PresenceChanged, UserID: userID, Online: online})
	return nil
}

// User returns a user's account.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	return s.store.User(ctx, id)
}

// RoomIDsOf lists the rooms whose events the user receives.
func (s *Service) RoomIDsOf(ctx context.Context, userID int64) ([]int64, error) {
	return s.store.RoomIDsOf(ctx, userID)
}

// CanRead reports whether the user may read the room, ErrNotFound otherwise.
func (s *Service) CanRead(ctx context.Context, userID, roomID int64) error {
	return s.requireMember(ctx, userID, roomID)
}

// roomFor is the room as a member gets it back, unread counts included.
func (s *Service) roomFor(ctx context.Context, userID, roomID int64) (Room, error) {
	room, _, err := hidePrivate(s.store.RoomFor(ctx, userID, roomID))
	return room, err
}

// visibleRoom loads a room with the caller's role (0 when not a member)
// and read state, hiding private rooms from non-members.
func (s *Service) visibleRoom(ctx context.Context, userID, roomID int64) (Room, Role, error) {
	return hidePrivate(s.store.RoomFor(ctx, userID, roomID))
}

// hidePrivate answers a private room to a non-member as a missing one.
func hidePrivate(room Room, role Role, err error) (Room, Role, error) {
	if err != nil {
		return Room{}, 0, err
	}
	if role == 0 && room.Visibility != Public {
		return Room{}, 0, notFound(room.ID)
	}
	return room, role, nil
}

// requireMember checks membership first, the one query a member's send or
// read needs; only a non-member's answer loads the room, to tell a public
// room (forbidden) from a hidden or missing one (not found).
func (s *Service) requireMember(ctx context.Context, userID, roomID int64) error {
	err := s.store.CheckMember(ctx, roomID, userID)
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	room, _, err := s.visibleRoom(ctx, userID, roomID)
	if err != nil {
		return err
	}
	return Errorf(ErrForbidden, "join room %q first", room.Name)
}

// requireOwner returns the room if the user owns it.
func (s *Service) requireOwner(ctx context.Context, userID, roomID int64) (Room, error) {
	room, role, err := s.visibleRoom(ctx, userID, roomID)
	if err != nil {
		return Room{}, err
	}
	if role != Owner {
		return Room{}, Errorf(ErrForbidden, "only the owner of room %q can change its members", room.Name)
	}
	return room, nil
}

// memberJoined tells the newcomer's live connections that the room is
// theirs now, then the room, with the newcomer's presence so member lists
// need no reload, then the directory (a public room's new member count). The newcomer is told first, so that where one process
// carries both, their connections hear the room's join too.
func (s *Service) memberJoined(ctx context.Context, room Room, m Membership) {
	room.Joined = true
	s.publish(ctx, Event{Kind: RoomAdded, RoomID: room.ID, To: m.User.ID, Room: &room})
	if online, err := s.presence.Online(ctx, []int64{m.User.ID}); err == nil {
		m.Online = online[m.User.ID]
	}
	s.publish(ctx, Event{Kind: MemberJoined, RoomID: room.ID, Member: &m})
	s.tellDirectory(ctx, room)
}

// removeMember ends a membership and tells the room, then the user's live
// connections, which stop receiving the room's events, then the directory.
func (s *Service) removeMember(ctx context.Context, roomID, userID int64) error {
	removed, err := s.store.RemoveMember(ctx, roomID, userID)
	if err != nil || !removed {
		return err
	}
	s.publish(ctx, Event{Kind: MemberLeft, RoomID: roomID, UserID: userID})
	s.publish(ctx, Event{Kind: RoomRemoved, RoomID: roomID, To: userID})
	s.tellDirectoryOf(ctx, roomID)
	return nil
}

// publish hands an event on after its change is committed. A failure is
// logged, not returned: the change is durable and clients that missed the
// event catch up from the store by seq.
func (s *Service) publish(ctx context.Context, e Event) {
	if err := s.events.Publish(ctx, e); err != nil {
		s.log.WarnContext(ctx, "publish event", "room_id", e.RoomID, "to", e.To, "kind", e.Kind, "err", err)
	}
}

func notFound(roomID int64) error {
	return Errorf(ErrNotFound, "room %d not found", roomID)
}
