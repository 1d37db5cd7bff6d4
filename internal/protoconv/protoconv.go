// Package protoconv turns domain values into their chat.v1 protobuf messages,
// for the RPC handlers, the live transports and the bus alike.
package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/push"
)

// User converts a user; the email is kept only for its owner.
func User(u chat.User, self bool) *chatv1.User {
	pb := &chatv1.User{Id: u.ID, Username: u.Username, DisplayName: u.DisplayName, StatusText: u.StatusText, AvatarUrl: avatarURL(u.Avatar), CreatedAt: timestamppb.New(u.CreatedAt)}
	if self {
		pb.Email = u.Email
	}
	return pb
}

// Room converts a room.
func Room(r chat.Room) *chatv1.Room {
	pb := &chatv1.Room{
		Id: r.ID, Name: r.Name, Topic: r.Topic, Visibility: chatv1.Visibility(r.Visibility),
		MemberCount: r.MemberCount, LastSeq: r.LastSeq, Joined: r.Joined, CreatedAt: timestamppb.New(r.CreatedAt),
		ReadSeq: r.ReadSeq, UnreadCount: r.UnreadCount, MentionCount: r.MentionCount, Muted: r.Muted,
		Kind: chatv1.RoomKind(r.Kind),
	}
	for _, u := range r.Members {
		pb.Members = append(pb.Members, User(u, false))
	}
	return pb
}

// Member converts a membership.
func Member(m chat.Membership) *chatv1.Member {
	return &chatv1.Member{User: User(m.User, false), Role: chatv1.Role(m.Role), Online: m.Online, JoinedAt: timestamppb.New(m.JoinedAt)}
}

// Message converts a message.
func Message(m chat.Message) *chatv1.Message {
	pb := &chatv1.Message{
		Id: m.ID, RoomId: m.RoomID, Seq: m.Seq, Sender: User(m.Sender, false), Body: m.Body,
		CreatedAt: timestamppb.New(m.CreatedAt), ClientMsgId: m.ClientMsgID, Deleted: m.Deleted,
		MentionUserIds: m.MentionUserIDs, MentionsRoom: m.MentionsRoom,
	}
	if len(m.Attachments) > 0 {
		pb.Attachments = Attachments(m.Attachments)
	}
	if !m.EditedAt.IsZero() {
		pb.EditedAt = timestamppb.New(m.EditedAt)
	}
	if r := m.ReplyTo; r != nil {
		pb.ReplyTo = &chatv1.ReplyTo{Seq: r.Seq, Sender: User(r.Sender, false), Excerpt: r.Excerpt, Deleted: r.Deleted}
	}
	for _, r := range m.Reactions {
		pb.Reactions = append(pb.Reactions, &chatv1.Reaction{Emoji: r.Emoji, Count: r.Count, Me: r.Me})
	}
	return pb
}

// Edits converts a message's earlier bodies.
func Edits(es []chat.Edit) []*chatv1.Edit {
	out := make([]*chatv1.Edit, len(es))
	for i, e := range es {
		out[i] = &chatv1.Edit{Body: e.Body, ReplacedAt: timestamppb.New(e.ReplacedAt)}
	}
	return out
}

// Receipt converts a read receipt.
func Receipt(r chat.Receipt) *chatv1.ReadReceipt {
	return &chatv1.ReadReceipt{RoomId: r.RoomID, UserId: r.UserID, ReadSeq: r.ReadSeq}
}

// Settings converts a user's settings.
func Settings(s chat.Settings) *chatv1.Settings {
	return &chatv1.Settings{ShareReadReceipts: s.ShareReadReceipts, DmPolicy: chatv1.DmPolicy(s.DmPolicy)}
}

// Event converts an event. On the wire room_id is where a room event goes;
// an event addressed to one user has user_id instead, and names its room
// inside.
func Event(e chat.Event) *chatv1.Event {
	pb := &chatv1.Event{RoomId: e.RoomID, Seq: e.Seq()}
	if e.To != 0 {
		pb.RoomId, pb.UserId = 0, e.To
	}
	switch e.Kind {
	case chat.MessageCreated:
		pb.Kind = &chatv1.Event_MessageCreated{MessageCreated: &chatv1.MessageCreated{Message: Message(*e.Message)}}
	case chat.MemberJoined:
		pb.Kind = &chatv1.Event_MemberJoined{MemberJoined: &chatv1.MemberJoined{RoomId: e.RoomID, Member: Member(*e.Member)}}
	case chat.MemberLeft:
		pb.Kind = &chatv1.Event_MemberLeft{MemberLeft: &chatv1.MemberLeft{RoomId: e.RoomID, UserId: e.UserID}}
	case chat.PresenceChanged:
		pb.Kind = &chatv1.Event_PresenceChanged{PresenceChanged: &chatv1.PresenceChanged{RoomId: e.RoomID, UserId: e.UserID, Online: e.Online}}
	case chat.Typing:
		pb.Kind = &chatv1.Event_Typing{Typing: &chatv1.Typing{RoomId: e.RoomID, UserId: e.UserID}}
	case chat.TooFarBehind:
		pb.Kind = &chatv1.Event_TooFarBehind{TooFarBehind: &chatv1.TooFarBehind{RoomId: e.RoomID, AfterSeq: e.AfterSeq, LastSeq: e.LastSeq}}
	case chat.RoomAdded:
		pb.Kind = &chatv1.Event_RoomAdded{RoomAdded: &chatv1.RoomAdded{Room: Room(*e.Room)}}
	case chat.RoomRemoved:
		pb.Kind = &chatv1.Event_RoomRemoved{RoomRemoved: &chatv1.RoomRemoved{RoomId: e.RoomID}}
	default:
		timelineEvent(pb, e)
	}
	return pb
}

// timelineEvent fills in the kinds issue 15 added: the log's changes and
// the read state.
func timelineEvent(pb *chatv1.Event, e chat.Event) {
	switch e.Kind {
	case chat.MessageEdited:
		pb.Kind = &chatv1.Event_MessageEdited{MessageEdited: &chatv1.MessageEdited{Message: Message(*e.Message)}}
	case chat.MessageDeleted:
		pb.Kind = &chatv1.Event_MessageDeleted{MessageDeleted: &chatv1.MessageDeleted{RoomId: e.RoomID, MessageSeq: e.MessageSeq}}
	case chat.ReactionAdded:
		pb.Kind = &chatv1.Event_ReactionAdded{ReactionAdded: &chatv1.ReactionAdded{RoomId: e.RoomID, MessageSeq: e.MessageSeq, Emoji: e.Emoji, UserId: e.UserID}}
	case chat.ReactionRemoved:
		pb.Kind = &chatv1.Event_ReactionRemoved{ReactionRemoved: &chatv1.ReactionRemoved{RoomId: e.RoomID, MessageSeq: e.MessageSeq, Emoji: e.Emoji, UserId: e.UserID}}
	case chat.ReadMarker:
		pb.Kind = &chatv1.Event_ReadMarker{ReadMarker: &chatv1.ReadMarker{RoomId: e.RoomID, ReadSeq: e.ReadSeq}}
	case chat.ReadReceipt:
		pb.Kind = &chatv1.Event_ReadReceipt{ReadReceipt: &chatv1.ReadReceipt{RoomId: e.RoomID, UserId: e.UserID, ReadSeq: e.ReadSeq}}
	case chat.SettingsChanged:
		pb.Kind = &chatv1.Event_SettingsChanged{SettingsChanged: &chatv1.SettingsChanged{Settings: Settings(*e.Settings)}}
	case chat.MuteChanged:
		pb.Kind = &chatv1.Event_MuteChanged{MuteChanged: &chatv1.MuteChanged{RoomId: e.RoomID, Muted: e.Muted}}
	case chat.RoomUpdated:
		pb.Kind = &chatv1.Event_RoomUpdated{RoomUpdated: &chatv1.RoomUpdated{Room: Room(*e.Room)}}
	default:
		peopleEvent(pb, e)
	}
}

// Messages converts a page of messages.
func Messages(ms []chat.Message) []*chatv1.Message {
	out := make([]*chatv1.Message, len(ms))
	for i, m := range ms {
		out[i] = Message(m)
	}
	return out
}

// Ready converts what a live connection is told first; the user's email is
// kept, since the connection is the user's own.
func Ready(r push.Ready) *chatv1.Ready {
	pb := &chatv1.Ready{User: User(r.User, true), RoomIds: r.Rooms, SessionId: r.SessionID}
	for _, id := range r.Rooms {
		pb.Cursors = append(pb.Cursors, &chatv1.RoomCursor{RoomId: id, AfterSeq: r.Cursors[id]})
	}
	return pb
}

// Cursors converts a client's resume cursors.
func Cursors(pbs []*chatv1.RoomCursor) []push.Cursor {
	out := make([]push.Cursor, len(pbs))
	for i, c := range pbs {
		out[i] = push.Cursor{Room: c.GetRoomId(), After: c.GetAfterSeq()}
	}
	return out
}
