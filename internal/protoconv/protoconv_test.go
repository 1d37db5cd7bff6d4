package protoconv

import (
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// TestEventRoundTrip: what the bus decodes is what was published, for every
// kind it carries; an event for one user travels with its user and no room
// on the wire.
func TestEventRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	alice := chat.User{ID: 7, Username: "alice", DisplayName: "Alice", StatusText: "away", CreatedAt: at}
	room := chat.Room{ID: 9, Name: "secret", Topic: "t", Visibility: chat.Private, MemberCount: 2, LastSeq: 41, Joined: true, CreatedAt: at, Kind: chat.Channel}
	bob := chat.User{ID: 8, Username: "bob", DisplayName: "Bob", CreatedAt: at}
	direct := chat.Room{ID: 10, Visibility: chat.Private, MemberCount: 2, Joined: true, CreatedAt: at, Kind: chat.Direct, Members: []chat.User{alice, bob}}
	for _, e := range []chat.Event{
		{Kind: chat.MessageCreated, RoomID: 9, Message: &chat.Message{ID: 1, RoomID: 9, Seq: 42, Sender: alice, Body: "hi", ClientMsgID: "c1", CreatedAt: at}},
		{Kind: chat.MemberJoined, RoomID: 9, Member: &chat.Membership{User: alice, Role: chat.Member, Online: true, JoinedAt: at}},
		{Kind: chat.MemberLeft, RoomID: 9, UserID: 7},
		{Kind: chat.PresenceChanged, RoomID: 9, UserID: 7, Online: true},
		{Kind: chat.Typing, RoomID: 9, UserID: 7},
		{Kind: chat.RoomAdded, RoomID: 9, To: 7, Room: &room},
		{Kind: chat.RoomRemoved, RoomID: 9, To: 7},
		{Kind: chat.MessageEdited, RoomID: 9, Entry: 44, Message: &chat.Message{
			ID: 1, RoomID: 9, Seq: 42, Sender: alice, Body: "hi @bob @room", ClientMsgID: "c1", CreatedAt: at, EditedAt: at.Add(time.Second),
			ReplyTo: &chat.ReplyTo{Seq: 40, Sender: alice, Excerpt: "earlier"}, MentionUserIDs: []int64{8}, MentionsRoom: true,
		}},
		{Kind: chat.MessageDeleted, RoomID: 9, Entry: 45, MessageSeq: 42},
		{Kind: chat.ReactionAdded, RoomID: 9, Entry: 46, MessageSeq: 42, Emoji: "👍", UserID: 7},
		{Kind: chat.ReactionRemoved, RoomID: 9, Entry: 47, MessageSeq: 42, Emoji: "👍", UserID: 7},
		{Kind: chat.ReadMarker, RoomID: 9, To: 7, ReadSeq: 47},
		{Kind: chat.ReadReceipt, RoomID: 9, UserID: 7, ReadSeq: 47},
		{Kind: chat.SettingsChanged, To: 7, Settings: &chat.Settings{ShareReadReceipts: true, DmPolicy: chat.DmFriends}},
		{Kind: chat.FriendRequestReceived, To: 8, Request: &chat.FriendRequest{User: alice, CreatedAt: at}},
		{Kind: chat.FriendRequestReceived, To: 7, Outgoing: true, Request: &chat.FriendRequest{User: alice, CreatedAt: at}},
		{Kind: chat.FriendRequestAnswered, To: 8, User: &alice, Accepted: true},
		{Kind: chat.FriendRemoved, To: 8, UserID: 7},
		{Kind: chat.BlockChanged, To: 8, User: &alice, Blocked: true},
		{Kind: chat.UserUpdated, To: 8, User: &alice},
		{Kind: chat.PresenceChanged, To: 8, UserID: 7, Online: true},
		{Kind: chat.MuteChanged, RoomID: 9, To: 7, Muted: true},
		{Kind: chat.RoomAdded, RoomID: 10, To: 7, Room: &direct},
		{Kind: chat.RoomUpdated, RoomID: 9, Room: &room},
		{Kind: chat.RoomListed, RoomID: 9, Room: &room},
	} {
		pb := Event(e)
		if e.To != 0 && (pb.GetRoomId() != 0 || pb.GetUserId() != e.To) {
			t.Errorf("kind %d: on the wire room %d, user %d; want room 0, user %d", e.Kind, pb.GetRoomId(), pb.GetUserId(), e.To)
		}
		if back := FromEvent(pb); !reflect.DeepEqual(back, e) {
			t.Errorf("kind %d: round trip gave\n%+v\nwant\n%+v", e.Kind, back, e)
		}
	}
}
