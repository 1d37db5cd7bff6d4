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
	pb := &chatv1.User{Id: u.ID, Username: u.Username, DisplayName: u.DisplayName, CreatedAt: timestamppb.New(u.CreatedAt)}
	if self {
		pb.Email = u.Email
	}
	return pb
}

// Room converts a room.
func Room(r chat.Room) *chatv1.Room {
	return &chatv1.Room{
		Id: r.ID, Name: r.Name, Topic: r.Topic, Visibility: chatv1.Visibility(r.Visibility),
		MemberCount: r.MemberCount, LastSeq: r.LastSeq, Joined: r.Joined, CreatedAt: timestamppb.New(r.CreatedAt),
	}
}

// Member converts a membership.
func Member(m chat.Membership) *chatv1.Member {
	return &chatv1.Member{User: User(m.User, false), Role: chatv1.Role(m.Role), Online: m.Online, JoinedAt: timestamppb.New(m.JoinedAt)}
}

// Message converts a message.
func Message(m chat.Message) *chatv1.Message {
	return &chatv1.Message{
		Id: m.ID, RoomId: m.RoomID, Seq: m.Seq, Sender: User(m.Sender, false), Body: m.Body,
		CreatedAt: timestamppb.New(m.CreatedAt), ClientMsgId: m.ClientMsgID,
	}
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
	}
	return pb
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
