package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

func roomNames(rooms []*chatv1.Room) []string {
	var names []string
	for _, r := range rooms {
		names = append(names, r.GetName())
	}
	return names
}

func TestRooms(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		owner := testenv.NewClient(srv, p)
		owner.Signup(t, "owner_"+p.Name)
		stranger := testenv.NewClient(srv, p)
		stranger.Signup(t, "stranger_"+p.Name)

		list, err := owner.Rooms.ListRooms(ctx, &chatv1.ListRoomsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"general", "random", "tech"} {
			if !slices.Contains(roomNames(list.GetRooms()), want) {
				t.Fatalf("default room %q missing from %v", want, roomNames(list.GetRooms()))
			}
		}

		pub, err := owner.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "  pub " + p.Name + " ", Topic: "open"})
		if err != nil {
			t.Fatal(err)
		}
		if r := pub.GetRoom(); r.GetName() != "pub "+p.Name || r.GetVisibility() != chatv1.Visibility_VISIBILITY_PUBLIC || !r.GetJoined() || r.GetMemberCount() != 1 {
			t.Fatalf("created room = %v", r)
		}
		_, err = stranger.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "PUB " + p.Name})
		wantCode(t, err, connect.CodeAlreadyExists)
		if !strings.Contains(err.Error(), "a room with that name exists") {
			t.Fatalf("a taken room name is told as %q", err)
		}

		priv, err := owner.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "secret " + p.Name, Visibility: chatv1.Visibility_VISIBILITY_PRIVATE})
		if err != nil {
			t.Fatal(err)
		}
		privID := priv.GetRoom().GetId()
		owner.Send(t, privID, "between us", "secret-1")

		t.Run("PrivateRoomIsNotFoundForOthers", func(t *testing.T) {
			list, err := stranger.Rooms.ListRooms(ctx, &chatv1.ListRoomsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(roomNames(list.GetRooms()), "secret "+p.Name) {
				t.Fatal("a private room is listed to a non-member")
			}
			calls := map[string]func() error{
				"JoinRoom": func() error {
					_, err := stranger.Rooms.JoinRoom(ctx, &chatv1.JoinRoomRequest{RoomId: privID})
					return err
				},
				"LeaveRoom": func() error {
					_, err := stranger.Rooms.LeaveRoom(ctx, &chatv1.LeaveRoomRequest{RoomId: privID})
					return err
				},
				"ListMembers": func() error {
					_, err := stranger.Rooms.ListMembers(ctx, &chatv1.ListMembersRequest{RoomId: privID})
					return err
				},
				"ListMessages": func() error {
					_, err := stranger.Messages.ListMessages(ctx, &chatv1.ListMessagesRequest{RoomId: privID})
					return err
				},
				"SendMessage": func() error {
					_, err := stranger.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: privID, Body: "hi", ClientMsgId: "x"})
					return err
				},
				"SendReply": func() error { // whether message 1 exists is the room's secret too
					_, err := stranger.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: privID, Body: "hi", ClientMsgId: "y", ReplyToSeq: 1})
					return err
				},
				"AddMember": func() error {
					_, err := stranger.Rooms.AddMember(ctx, &chatv1.AddMemberRequest{RoomId: privID, Username: "stranger_" + p.Name})
					return err
				},
			}
			for name, call := range calls {
				t.Run(name, func(t *testing.T) {
					err := call()
					wantCode(t, err, connect.CodeNotFound)
					// Exactly as for a room that does not exist.
					missing := strings.ReplaceAll(err.Error(), formatID(privID), "N")
					_, err2 := stranger.Rooms.JoinRoom(ctx, &chatv1.JoinRoomRequest{RoomId: 999999})
					if name == "JoinRoom" && missing != strings.ReplaceAll(err2.Error(), "999999", "N") {
						t.Fatalf("private room answers %q, missing room %q", err, err2)
					}
				})
			}
		})

		t.Run("AddMemberOpensPrivateRoom", func(t *testing.T) {
			if _, err := owner.Rooms.AddMember(ctx, &chatv1.AddMemberRequest{RoomId: privID, Username: "stranger_" + p.Name}); err != nil {
				t.Fatal(err)
			}
			stranger.Send(t, privID, "now I'm in", "in-1")
			members, err := stranger.Rooms.ListMembers(ctx, &chatv1.ListMembersRequest{RoomId: privID})
			if err != nil {
				t.Fatal(err)
			}
			if len(members.GetMembers()) != 2 || members.GetMembers()[0].GetRole() != chatv1.Role_ROLE_OWNER {
				t.Fatalf("members = %v", members.GetMembers())
			}
			if _, err := stranger.Rooms.RemoveMember(ctx, &chatv1.RemoveMemberRequest{RoomId: privID, UserId: members.GetMembers()[0].GetUser().GetId()}); testenv.CodeOf(err) != connect.CodePermissionDenied {
				t.Fatalf("a member removed the owner: %v", err)
			}
			if _, err := stranger.Rooms.LeaveRoom(ctx, &chatv1.LeaveRoomRequest{RoomId: privID}); err != nil {
				t.Fatal(err)
			}
			_, err = stranger.Messages.ListMessages(ctx, &chatv1.ListMessagesRequest{RoomId: privID})
			wantCode(t, err, connect.CodeNotFound)
		})

		t.Run("JoinAndLeavePublic", func(t *testing.T) {
			_, err := stranger.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: testenv.General, Body: "hi", ClientMsgId: "before-join"})
			wantCode(t, err, connect.CodePermissionDenied)
			joined, err := stranger.Rooms.JoinRoom(ctx, &chatv1.JoinRoomRequest{RoomId: testenv.General})
			if err != nil || !joined.GetRoom().GetJoined() {
				t.Fatalf("join general: %v %v", joined, err)
			}
			if _, err := stranger.Rooms.JoinRoom(ctx, &chatv1.JoinRoomRequest{RoomId: testenv.General}); err != nil {
				t.Fatalf("joining twice: %v", err)
			}
			members, err := stranger.Rooms.ListMembers(ctx, &chatv1.ListMembersRequest{RoomId: testenv.General})
			if err != nil {
				t.Fatal(err)
			}
			var me *chatv1.Member
			for _, m := range members.GetMembers() {
				if m.GetUser().GetUsername() == "stranger_"+p.Name {
					me = m
				}
				if m.GetUser().GetEmail() != "" {
					t.Fatalf("member list leaks an email: %v", m)
				}
			}
			if me == nil || me.GetRole() != chatv1.Role_ROLE_MEMBER {
				t.Fatalf("not listed as member: %v", members.GetMembers())
			}
			if _, err := stranger.Rooms.LeaveRoom(ctx, &chatv1.LeaveRoomRequest{RoomId: testenv.General}); err != nil {
				t.Fatal(err)
			}
			_, err = stranger.Messages.ListMessages(ctx, &chatv1.ListMessagesRequest{RoomId: testenv.General})
			wantCode(t, err, connect.CodePermissionDenied)
		})

		t.Run("BadInput", func(t *testing.T) {
			for name, req := range map[string]*chatv1.CreateRoomRequest{
				"ErrNameEmpty":       {Name: ""},
				"ErrNameBlank":       {Name: "   "},
				"ErrNameTooLong":     {Name: strings.Repeat("n", 65)},
				"ErrNameControlChar": {Name: "bell\x07room"},
				"ErrNameC1Control":   {Name: "next\u0085line"},
				"ErrNameBidi":        {Name: "evil\u202etxt.exe"},
				"ErrNameZeroWidth":   {Name: "zero\u200bwidth"},
				"ErrNameInvisible":   {Name: "\u3164\u3164"},
				"ErrTopicC1Control":  {Name: "c1 " + p.Name, Topic: "csi\u009b31m"},
				"ErrTopicTooLong":    {Name: "topic " + p.Name, Topic: strings.Repeat("t", 1025)},
				"ErrVisibility":      {Name: "vis " + p.Name, Visibility: 7},
			} {
				t.Run(name, func(t *testing.T) {
					_, err := owner.Rooms.CreateRoom(ctx, req)
					wantCode(t, err, connect.CodeInvalidArgument)
				})
			}
			_, err := owner.Rooms.JoinRoom(ctx, &chatv1.JoinRoomRequest{RoomId: 0})
			wantCode(t, err, connect.CodeInvalidArgument)
			// The refusal says what is wrong in words.
			_, err = owner.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "evil\u202etxt.exe"})
			if err == nil || !strings.Contains(err.Error(), "must not contain control or invisible formatting characters") {
				t.Fatalf("a bidi override in a name was answered with %v", err)
			}
		})
	})
}
