package protoconv

import (
	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
)

// FromEvent turns an event back into the domain's, for the bus that carries
// events between processes as protobuf. It is Event's inverse: what the
// bus decodes is what the publisher's chat.Service published.
func FromEvent(pb *chatv1.Event) chat.Event {
	e := chat.Event{RoomID: pb.GetRoomId(), To: pb.GetUserId()}
	switch k := pb.GetKind().(type) {
	case *chatv1.Event_MessageCreated:
		m := fromMessage(k.MessageCreated.GetMessage())
		e.Kind, e.Message = chat.MessageCreated, &m
	case *chatv1.Event_MemberJoined:
		m := fromMember(k.MemberJoined.GetMember())
		e.Kind, e.Member = chat.MemberJoined, &m
	case *chatv1.Event_MemberLeft:
		e.Kind, e.UserID = chat.MemberLeft, k.MemberLeft.GetUserId()
	case *chatv1.Event_PresenceChanged:
		e.Kind, e.UserID, e.Online = chat.PresenceChanged, k.PresenceChanged.GetUserId(), k.PresenceChanged.GetOnline()
	case *chatv1.Event_Typing:
		e.Kind, e.UserID = chat.Typing, k.Typing.GetUserId()
	case *chatv1.Event_RoomAdded:
		r := fromRoom(k.RoomAdded.GetRoom())
		e.Kind, e.RoomID, e.Room = chat.RoomAdded, r.ID, &r
	case *chatv1.Event_RoomRemoved:
		e.Kind, e.RoomID = chat.RoomRemoved, k.RoomRemoved.GetRoomId()
	}
	return e
}

func fromRoom(pb *chatv1.Room) chat.Room {
	return chat.Room{
		ID: pb.GetId(), Name: pb.GetName(), Topic: pb.GetTopic(), Visibility: chat.Visibility(pb.GetVisibility()),
		MemberCount: pb.GetMemberCount(), LastSeq: pb.GetLastSeq(), Joined: pb.GetJoined(), CreatedAt: pb.GetCreatedAt().AsTime(),
	}
}

func fromUser(pb *chatv1.User) chat.User {
	return chat.User{
		ID: pb.GetId(), Username: pb.GetUsername(), Email: pb.GetEmail(), DisplayName: pb.GetDisplayName(),
		CreatedAt: pb.GetCreatedAt().AsTime(),
	}
}

func fromMember(pb *chatv1.Member) chat.Membership {
	return chat.Membership{User: fromUser(pb.GetUser()), Role: chat.Role(pb.GetRole()), Online: pb.GetOnline(), JoinedAt: pb.GetJoinedAt().AsTime()}
}

func fromMessage(pb *chatv1.Message) chat.Message {
	return chat.Message{
		ID: pb.GetId(), RoomID: pb.GetRoomId(), Seq: pb.GetSeq(), Sender: fromUser(pb.GetSender()), Body: pb.GetBody(),
		ClientMsgID: pb.GetClientMsgId(), CreatedAt: pb.GetCreatedAt().AsTime(),
	}
}
