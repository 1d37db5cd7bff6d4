package chat

import (
	"context"
	"time"
)

// Store keeps users' rooms, memberships and messages durably.
type Store interface {
	VisibleRooms(ctx context.Context, userID int64) ([]Room, error)
	// CreateRoom stores the room with its owner as first member; a public name
	// already in use is ErrConflict.
	CreateRoom(ctx context.Context, r NewRoom) (Room, Membership, error)
	Room(ctx context.Context, roomID int64) (Room, error)
	// RoomFor is the room as the user sees it: their role (0 for a
	// non-member) and, for a member, their read state with unread counts.
	RoomFor(ctx context.Context, userID, roomID int64) (Room, Role, error)
	// RoomsFor is RoomFor of several rooms at once, those that exist.
	RoomsFor(ctx context.Context, userID int64, roomIDs []int64) ([]Room, []Role, error)
	// Role is the user's role in the room, ErrNotFound for a non-member.
	Role(ctx context.Context, roomID, userID int64) (Role, error)
	// AddMember reports whether the user was newly added.
	AddMember(ctx context.Context, roomID, userID int64, role Role) (Membership, bool, error)
	// RemoveMember reports whether the user was a member.
	RemoveMember(ctx context.Context, roomID, userID int64) (bool, error)
	Members(ctx context.Context, roomID int64) ([]Membership, error)
	User(ctx context.Context, id int64) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	RoomIDsOf(ctx context.Context, userID int64) ([]int64, error)
	// AppendMessage stores a message with the room's next seq, or returns the
	// message stored earlier under the same client id with created false.
	// A sender who is not a member of the room gets ErrNotFound.
	AppendMessage(ctx context.Context, m NewMessage) (msg Message, created bool, err error)
	// MessagesAfter and MessagesBefore page through the messages in their
	// current state, with reactions as the viewer sees them: after afterSeq
	// ascending, or the newest below beforeSeq, ascending too.
	MessagesAfter(ctx context.Context, viewer, roomID, afterSeq int64, limit int) ([]Message, error)
	MessagesBefore(ctx context.Context, viewer, roomID, beforeSeq int64, limit int) ([]Message, error)
	// Entries are the room log's entries in (after, upTo], in seq order, as
	// the events they were; messages in their current state, without
	// reactions (the log's reaction entries carry those).
	Entries(ctx context.Context, roomID, after, upTo int64) ([]Event, error)
	// Message is the room's message with that seq, ErrNotFound when no
	// message has it.
	Message(ctx context.Context, roomID, seq int64) (Message, error)
	// ChangeMessage stores a change to a message in one transaction with
	// its log entry (the room's next seq), once c.Check approved the message
	// as it is. It returns the entry's seq, 0 when the change changed
	// nothing (a repeated delete or reaction), and the message after it.
	ChangeMessage(ctx context.Context, c Change) (entry int64, msg Message, err error)
	// Edits are a message's bodies before its edits, oldest first.
	Edits(ctx context.Context, roomID, seq int64) ([]Edit, error)
	// MemberIDs maps those of the lower-case usernames that are the room's
	// members to their ids.
	MemberIDs(ctx context.Context, roomID int64, usernames []string) (map[string]int64, error)
	// Relation is how from stands to to: blocks either way, friendship,
	// to's policy.
	Relation(ctx context.Context, from, to int64) (Relation, error)
	ReadStateStore
	ProfileStore
	FriendStore
	ConversationStore
	// SearchMessages is a page of candidates for a search: the messages
	// having every lookup of the spec, in its order after its key, in
	// their current state with reactions as the user sees them.
	SearchMessages(ctx context.Context, spec SearchSpec) (SearchPage, error)
}

// ConversationStore keeps direct and group rooms and room settings.
type ConversationStore interface {
	// OpenConversation returns the room of exactly c's members, creating it
	// (created true) unless one exists, also when another call creates it
	// at the same moment.
	OpenConversation(ctx context.Context, c NewConversation) (roomID int64, created bool, err error)
	// CheckMember is ErrNotFound for anyone not a member of the room.
	CheckMember(ctx context.Context, roomID, userID int64) error
	// RoomKind is the room's kind, whoever asks.
	RoomKind(ctx context.Context, roomID int64) (RoomKind, error)
	// SetHidden reports whether the member's hidden flag changed.
	SetHidden(ctx context.Context, roomID, userID int64, hidden bool) (bool, error)
	// Unhide shows the room again to the members who hid it, returning
	// those it changed for.
	Unhide(ctx context.Context, roomID int64) ([]int64, error)
	// UpdateRoom sets a room's name and topic; a public name another room
	// has is ErrConflict.
	UpdateRoom(ctx context.Context, room Room) error
}

// ReadStateStore keeps the members' read watermarks, mutes and receipt
// settings.
type ReadStateStore interface {
	// MoveReadSeq sets the member's watermark to seq clamped to the room's
	// last seq: forward only unless back is set. ErrNotFound for a
	// non-member.
	MoveReadSeq(ctx context.Context, roomID, userID, seq int64, back bool) (ReadMove, error)
	// ReadState is the member's watermark and receipts setting, as a
	// ReadMove that changed nothing.
	ReadState(ctx context.Context, roomID, userID int64) (ReadMove, error)
	// SetMuted reports whether the member's mute changed.
	SetMuted(ctx context.Context, roomID, userID int64, muted bool) (bool, error)
	// Receipts are the watermarks of the room's members who share them.
	Receipts(ctx context.Context, roomID int64) ([]Receipt, error)
	// SetSettings reports whether the user's settings changed.
	SetSettings(ctx context.Context, userID int64, s Settings) (bool, error)
}

// Presence tells who has a live connection anywhere.
type Presence interface {
	Online(ctx context.Context, userIDs []int64) (map[int64]bool, error)
}

// Publisher delivers events to every process's live connections.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}

// Throttle admits one action per key per window, across all processes.
type Throttle interface {
	Once(ctx context.Context, key string, window time.Duration) (bool, error)
	// Reset opens the key's window again.
	Reset(ctx context.Context, key string) error
}

// NewRoom is what CreateRoom needs.
type NewRoom struct {
	Name       string
	Topic      string
	Visibility Visibility
	OwnerID    int64
}

// NewMessage is what SendMessage stores.
type NewMessage struct {
	RoomID      int64
	SenderID    int64
	Body        string
	ClientMsgID string
	CreatedAt   time.Time
	// ReplyToSeq is the message it answers, 0 for none.
	ReplyToSeq int64
	Mentions   Mentions
	// AttachmentIDs are uploads to attach, in order (CheckAttachable).
	AttachmentIDs []string
}
