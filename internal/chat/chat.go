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
	CreatedAt   time.Time
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
}
