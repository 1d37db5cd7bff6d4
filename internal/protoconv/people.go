package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
)

// Friend converts a friend.
func Friend(f chat.Friend) *chatv1.Friend {
	return &chatv1.Friend{User: User(f.User, false), Online: f.Online, Since: timestamppb.New(f.Since)}
}

// FriendRequest converts a pending request.
func FriendRequest(r chat.FriendRequest) *chatv1.FriendRequest {
	return &chatv1.FriendRequest{User: User(r.User, false), CreatedAt: timestamppb.New(r.CreatedAt)}
}

// Users converts users as others see them, without emails.
func Users(us []chat.User) []*chatv1.User {
	out := make([]*chatv1.User, len(us))
	for i, u := range us {
		out[i] = User(u, false)
	}
	return out
}

// peopleEvent fills in the kinds issue 16 added: friends, blocks,
// profiles, the directory's rooms. Every person in them is as others see
// them, without email.
func peopleEvent(pb *chatv1.Event, e chat.Event) {
	switch e.Kind {
	case chat.FriendRequestReceived:
		pb.Kind = &chatv1.Event_FriendRequestReceived{FriendRequestReceived: &chatv1.FriendRequestReceived{Request: FriendRequest(*e.Request), Outgoing: e.Outgoing}}
	case chat.FriendRequestAnswered:
		pb.Kind = &chatv1.Event_FriendRequestAnswered{FriendRequestAnswered: &chatv1.FriendRequestAnswered{User: User(*e.User, false), Accepted: e.Accepted}}
	case chat.FriendRemoved:
		pb.Kind = &chatv1.Event_FriendRemoved{FriendRemoved: &chatv1.FriendRemoved{UserId: e.UserID}}
	case chat.BlockChanged:
		pb.Kind = &chatv1.Event_BlockChanged{BlockChanged: &chatv1.BlockChanged{User: User(*e.User, false), Blocked: e.Blocked}}
	case chat.UserUpdated:
		pb.Kind = &chatv1.Event_UserUpdated{UserUpdated: &chatv1.UserUpdated{User: User(*e.User, false)}}
	case chat.RoomListed:
		pb.Kind = &chatv1.Event_RoomListed{RoomListed: &chatv1.RoomListed{Room: Room(*e.Room)}}
	}
}

// fromPeopleEvent is peopleEvent's inverse.
func fromPeopleEvent(e *chat.Event, pb *chatv1.Event) {
	switch k := pb.GetKind().(type) {
	case *chatv1.Event_FriendRequestReceived:
		r := k.FriendRequestReceived
		req := chat.FriendRequest{User: fromUser(r.GetRequest().GetUser()), CreatedAt: r.GetRequest().GetCreatedAt().AsTime()}
		e.Kind, e.Request, e.Outgoing = chat.FriendRequestReceived, &req, r.GetOutgoing()
	case *chatv1.Event_FriendRequestAnswered:
		u := fromUser(k.FriendRequestAnswered.GetUser())
		e.Kind, e.User, e.Accepted = chat.FriendRequestAnswered, &u, k.FriendRequestAnswered.GetAccepted()
	case *chatv1.Event_FriendRemoved:
		e.Kind, e.UserID = chat.FriendRemoved, k.FriendRemoved.GetUserId()
	case *chatv1.Event_BlockChanged:
		u := fromUser(k.BlockChanged.GetUser())
		e.Kind, e.User, e.Blocked = chat.BlockChanged, &u, k.BlockChanged.GetBlocked()
	case *chatv1.Event_UserUpdated:
		u := fromUser(k.UserUpdated.GetUser())
		e.Kind, e.User = chat.UserUpdated, &u
	case *chatv1.Event_RoomListed:
		r := fromRoom(k.RoomListed.GetRoom())
		e.Kind, e.RoomID, e.Room = chat.RoomListed, r.ID, &r
	}
}

func fromSettings(pb *chatv1.Settings) *chat.Settings {
	return &chat.Settings{ShareReadReceipts: pb.GetShareReadReceipts(), DmPolicy: chat.DmPolicy(pb.GetDmPolicy())}
}
