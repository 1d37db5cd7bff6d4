package chat

// EventKind tells what happened.
type EventKind int

// The kinds of events.
const (
	MessageCreated EventKind = iota + 1
	MemberJoined
	MemberLeft
	PresenceChanged
	Typing
	// TooFarBehind is no room event but a live connection's answer to a
	// resume: the room's messages in (AfterSeq, LastSeq] are more than it
	// replays, and the client fetches them itself.
	TooFarBehind
	// RoomAdded tells a user that they are in a room now: they created or
	// joined it, or were added. Live delivery of it starts after
	// Room.LastSeq.
	RoomAdded
	// RoomRemoved tells a user that they are no longer in a room.
	RoomRemoved
	// The room log's other entries, each with its own seq (Entry):
	// MessageEdited carries the message, the others MessageSeq, and the
	// reactions Emoji and UserID.
	MessageEdited
	MessageDeleted
	ReactionAdded
	ReactionRemoved
	// ReadMarker tells a user's sessions their watermark (ReadSeq) in a room.
	ReadMarker
	// ReadReceipt tells a room how far a member (UserID) has read (ReadSeq).
	// Only connections of users who share receipts get it.
	ReadReceipt
	// SettingsChanged tells a user's sessions their new Settings.
	SettingsChanged
	// MuteChanged tells a user's sessions that a room is muted or not.
	MuteChanged
	// People (issue 16), each addressed to one user (To). The other person
	// is User, or UserID for FriendRemoved.
	//
	// FriendRequestReceived tells both people of a new Request; Outgoing
	// for the sender's own sessions, where Request.User is the addressee.
	FriendRequestReceived
	// FriendRequestAnswered tells both people that a request was accepted
	// (Accepted), declined or cancelled.
	FriendRequestAnswered
	// FriendRemoved tells both people that their friendship ended.
	FriendRemoved
	// BlockChanged tells the blocker's sessions that User is Blocked or
	// not; the blocked user is never told.
	BlockChanged
	// UserUpdated tells a user's sessions and friends their new profile.
	UserUpdated
	// RoomUpdated tells a room's members its new name or topic (Room,
	// without any member's read state).
	RoomUpdated
	// RoomListed tells every user's room directory a public room as it is
	// now (Room, no read state, Joined false): created, renamed, or its
	// member count moved. It goes to the directory topic (see Topic).
	RoomListed
)

// Event is something that happened in a room, told to its members, or to
// one user (To) about their own rooms. RoomID is the room it is about.
// Which other fields are set depends on Kind: Message for MessageCreated,
// Member for MemberJoined, UserID for the others, Online for
// PresenceChanged, AfterSeq and LastSeq for TooFarBehind, Room for
// RoomAdded.
type Event struct {
	Kind   EventKind
	RoomID int64
	// To, when set, addresses the event to that user's live connections
	// instead of the room's members.
	To       int64
	Message  *Message
	Member   *Membership
	Room     *Room
	UserID   int64
	Online   bool
	AfterSeq int64
	LastSeq  int64
	// Entry is the seq of a log entry other than a message's creation.
	Entry      int64
	MessageSeq int64
	Emoji      string
	ReadSeq    int64
	Settings   *Settings
	Muted      bool
	// The people events' fields (see FriendRequestReceived).
	User     *User
	Request  *FriendRequest
	Outgoing bool
	Accepted bool
	Blocked  bool
}

// Seq is the seq of the room log entry the event is, 0 for events that are
// not in the log.
func (e Event) Seq() int64 {
	switch {
	case e.Kind == MessageCreated && e.Message != nil:
		return e.Message.Seq
	case e.Kind.Logged():
		return e.Entry
	}
	return 0
}

// Logged reports whether events of the kind are entries of the room log.
func (k EventKind) Logged() bool {
	switch k {
	case MessageCreated, MessageEdited, MessageDeleted, ReactionAdded, ReactionRemoved:
		return true
	}
	return false
}

// Topic is where an event is addressed: the members of one room, one
// user, or everyone (Directory). Exactly one of the three is set.
// Processes listen by topic, so each hears only the room and user events
// its live connections need; every process listens to the directory.
type Topic struct {
	Room, User int64
	Directory  bool
}

// DirectoryTopic carries the events every live connection gets.
var DirectoryTopic = Topic{Directory: true}

// Topic is where the event goes.
func (e Event) Topic() Topic {
	switch {
	case e.Kind == RoomListed:
		return DirectoryTopic
	case e.To != 0:
		return Topic{User: e.To}
	}
	return Topic{Room: e.RoomID}
}
