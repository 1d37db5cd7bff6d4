// Package chat is Parley's domain: users, rooms, memberships, messages and the
// events they raise, with the rules that govern them. It depends on no
// transport or storage package; adapters implement the small interfaces it
// declares.
package chat

import "time"

// Visibility decides who can see and join a room.
type Visibility int8

// Room visibilities; the values are stored in MySQL.
const (
	Public  Visibility = 1
	Private Visibility = 2
)

// Role is a member's standing in a room.
type Role int8

// Roles; the values are stored in MySQL.
const (
	Owner  Role = 1
	Member Role = 2
)

// User is a person's account as others may see it; Email is shown only to
// its owner.
type User struct {
	ID          int64
	Username    string
	Email       string
	DisplayName string
	// StatusText is the short line shown beside the name.
	StatusText string
	// Avatar is the profile picture's blob key, '' for none.
	Avatar    string
	CreatedAt time.Time
	// Settings are known only for the user's own account.
	Settings Settings
}

// Settings are a user's own preferences.
type Settings struct {
	// ShareReadReceipts lets others see how far the user has read, and the
	// user see theirs: receipts are reciprocal.
	ShareReadReceipts bool
	// DmPolicy says who may open a direct room with the user.
	DmPolicy DmPolicy
}

// Room is a conversation with its own gapless message sequence.
type Room struct {
	ID          int64
	Name        string
	Topic       string
	Visibility  Visibility
	MemberCount int64
	LastSeq     int64
	Joined      bool
	CreatedAt   time.Time
	// The caller's read state, for a member.
	ReadSeq      int64
	UnreadCount  int64
	MentionCount int64
	Muted        bool
	Kind         RoomKind
	// Members are a direct or group room's members, the caller among them,
	// whom clients name the room by; nil for channels.
	Members []User
}

// Membership is a user's place in a room.
type Membership struct {
	User     User
	Role     Role
	Online   bool
	JoinedAt time.Time
}

// Message is a stored chat message.
type Message struct {
	ID          int64
	RoomID      int64
	Seq         int64
	Sender      User
	Body        string
	ClientMsgID string
	CreatedAt   time.Time
	// EditedAt is zero for a message never edited.
	EditedAt time.Time
	// Deleted marks a tombstone: no body, reactions or edits.
	Deleted bool
	// ReplyTo is set for a reply.
	ReplyTo   *ReplyTo
	Reactions []Reaction
	// MentionUserIDs are the members mentioned as @username, in order.
	MentionUserIDs []int64
	MentionsRoom   bool
	// Attachments are its files, in the order attached; none once deleted.
	Attachments []Attachment
}

// RoomMention stands for @room where mentions name user ids.
const RoomMention int64 = 0

// ReplyTo is what a reply shows of the message it answers.
type ReplyTo struct {
	Seq     int64
	Sender  User
	Excerpt string
	Deleted bool
}

// Reaction is one emoji's reactions to a message; Me is whether the reader
// is among them.
type Reaction struct {
	Emoji string
	Count int64
	Me    bool
}

// Edit is a body a message had until an edit replaced it.
type Edit struct {
	Body       string
	ReplacedAt time.Time
}

// Receipt is how far a member has read a room.
type Receipt struct {
	RoomID  int64
	UserID  int64
	ReadSeq int64
}
