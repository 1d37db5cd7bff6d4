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
	default:
		fromTimelineEvent(&e, pb)
	}
	return e
}

// fromTimelineEvent is timelineEvent's inverse. The log's changes carry
// their entry's seq; a created message's is the message's own.
func fromTimelineEvent(e *chat.Event, pb *chatv1.Event) {
	switch k := pb.GetKind().(type) {
	case *chatv1.Event_MessageEdited:
		m := fromMessage(k.MessageEdited.GetMessage())
		e.Kind, e.Message = chat.MessageEdited, &m
	case *chatv1.Event_MessageDeleted:
		e.Kind, e.MessageSeq = chat.MessageDeleted, k.MessageDeleted.GetMessageSeq()
	case *chatv1.Event_ReactionAdded:
		r := k.ReactionAdded
		e.Kind, e.MessageSeq, e.Emoji, e.UserID = chat.ReactionAdded, r.GetMessageSeq(), r.GetEmoji(), r.GetUserId()
	case *chatv1.Event_ReactionRemoved:
		r := k.ReactionRemoved
		e.Kind, e.MessageSeq, e.Emoji, e.UserID = chat.ReactionRemoved, r.GetMessageSeq(), r.GetEmoji(), r.GetUserId()
	case *chatv1.Event_ReadMarker:
		e.Kind, e.RoomID, e.ReadSeq = chat.ReadMarker, k.ReadMarker.GetRoomId(), k.ReadMarker.GetReadSeq()
	case *chatv1.Event_ReadReceipt:
		r := k.ReadReceipt
		e.Kind, e.UserID, e.ReadSeq = chat.ReadReceipt, r.GetUserId(), r.GetReadSeq()
	case *chatv1.Event_SettingsChanged:
		e.Kind, e.Settings = chat.SettingsChanged, fromSettings(k.SettingsChanged.GetSettings())
	case *chatv1.Event_MuteChanged:
		e.Kind, e.RoomID, e.Muted = chat.MuteChanged, k.MuteChanged.GetRoomId(), k.MuteChanged.GetMuted()
	case *chatv1.Event_RoomUpdated:
		r := fromRoom(k.RoomUpdated.GetRoom())
		e.Kind, e.Room = chat.RoomUpdated, &r
	default:
		fromPeopleEvent(e, pb)
	}
	if e.Kind.Logged() {
		e.Entry = pb.GetSeq()
	}
}

func fromRoom(pb *chatv1.Room) chat.Room {
	return chat.Room{
		ID: pb.GetId(), Name: pb.GetName(), Topic: pb.GetTopic(), Visibility: chat.Visibility(pb.GetVisibility()),
		MemberCount: pb.GetMemberCount(), LastSeq: pb.GetLastSeq(), Joined: pb.GetJoined(), CreatedAt: pb.GetCreatedAt().AsTime(),
		ReadSeq: pb.GetReadSeq(), UnreadCount: pb.GetUnreadCount(), MentionCount: pb.GetMentionCount(), Muted: pb.GetMuted(),
		Kind: chat.RoomKind(pb.GetKind()), Members: fromUsers(pb.GetMembers()),
	}
}

// fromUsers is nil for none, as the store leaves a channel's members.
func fromUsers(pbs []*chatv1.User) []chat.User {
	var out []chat.User
	for _, pb := range pbs {
		out = append(out, fromUser(pb))
	}
	return out
}

func fromUser(pb *chatv1.User) chat.User {
	return chat.User{
		ID: pb.GetId(), Username: pb.GetUsername(), Email: pb.GetEmail(), DisplayName: pb.GetDisplayName(),
		StatusText: pb.GetStatusText(), Avatar: avatarKey(pb.GetAvatarUrl()), CreatedAt: pb.GetCreatedAt().AsTime(),
	}
}

func fromMember(pb *chatv1.Member) chat.Membership {
	return chat.Membership{User: fromUser(pb.GetUser()), Role: chat.Role(pb.GetRole()), Online: pb.GetOnline(), JoinedAt: pb.GetJoinedAt().AsTime()}
}

func fromMessage(pb *chatv1.Message) chat.Message {
	m := chat.Message{
		ID: pb.GetId(), RoomID: pb.GetRoomId(), Seq: pb.GetSeq(), Sender: fromUser(pb.GetSender()), Body: pb.GetBody(),
		ClientMsgID: pb.GetClientMsgId(), CreatedAt: pb.GetCreatedAt().AsTime(), Deleted: pb.GetDeleted(),
		MentionUserIDs: pb.GetMentionUserIds(), MentionsRoom: pb.GetMentionsRoom(),
		Attachments: fromAttachments(pb.GetAttachments()),
	}
	if pb.EditedAt != nil {
		m.EditedAt = pb.GetEditedAt().AsTime()
	}
	if r := pb.GetReplyTo(); r != nil {
		m.ReplyTo = &chat.ReplyTo{Seq: r.GetSeq(), Sender: fromUser(r.GetSender()), Excerpt: r.GetExcerpt(), Deleted: r.GetDeleted()}
	}
	for _, r := range pb.GetReactions() {
		m.Reactions = append(m.Reactions, chat.Reaction{Emoji: r.GetEmoji(), Count: r.GetCount(), Me: r.GetMe()})
	}
	return m
}
