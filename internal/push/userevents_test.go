package push_test

import (
	"context"
	"fmt"
	"testing"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

func roomAdded(uid, room int64) func(*chatv1.Event) bool {
	return func(ev *chatv1.Event) bool {
		return ev.GetUserId() == uid && ev.GetRoomId() == 0 && ev.GetRoomAdded().GetRoom().GetId() == room
	}
}

func roomRemoved(uid, room int64) func(*chatv1.Event) bool {
	return func(ev *chatv1.Event) bool {
		return ev.GetUserId() == uid && ev.GetRoomId() == 0 && ev.GetRoomRemoved().GetRoomId() == room
	}
}

// TestUserEvents: changes to a user's room list reach every live connection
// of the user, over every session and both of two processes, and the room's
// events follow them: a private room bob is added to on one process streams
// to his sockets and stream on both, from its last seq then on, and stops
// once he is removed; a room he joins through one process streams to the
// other's sockets too.
func TestUserEvents(t *testing.T) {
	env := pushEnv(t, nil)
	a, b := testenv.Start(t, env), testenv.Start(t, env)
	alice := member(t, a, "alice")
	bob := member(t, a, "bob")
	bobID := userID(t, bob)
	other := newSession(t, b, "bob")

	onA, _ := openWS(t, a, bob)
	onB, _ := openWS(t, b, other)
	streamOnB, _ := subscribe(t, b, other, testenv.Protocols[1])
	conns := []*live{onA, onB, streamOnB}

	secret := createRoom(t, alice, "secret", chatv1.Visibility_VISIBILITY_PRIVATE)
	for i := range 3 {
		alice.Send(t, secret, "before bob", fmt.Sprintf("before-%d", i))
	}
	if _, err := alice.Rooms.AddMember(context.Background(), &chatv1.AddMemberRequest{RoomId: secret, Username: "bob"}); err != nil {
		t.Fatal(err)
	}
	for _, l := range conns {
		ev := l.waitEvent(t, "room_added for the private room", roomAdded(bobID, secret))
		if got := ev.GetRoomAdded().GetRoom(); got.GetLastSeq() != 3 || !got.GetJoined() || got.GetName() != "secret" {
			t.Fatalf("%s: room_added carries %v, want the joined room at last seq 3", l.name, got)
		}
	}
	sent := alice.Send(t, secret, "for bob now", "after-add")
	for _, l := range conns {
		if got := l.message(t, secret); got.GetSeq() != sent.GetSeq() {
			t.Fatalf("%s: first message of the added room has seq %d, want the live %d (nothing replayed)", l.name, got.GetSeq(), sent.GetSeq())
		}
	}

	if _, err := alice.Rooms.RemoveMember(context.Background(), &chatv1.RemoveMemberRequest{RoomId: secret, UserId: bobID}); err != nil {
		t.Fatal(err)
	}
	for _, l := range conns {
		l.waitEvent(t, "room_removed for the private room", roomRemoved(bobID, secret))
	}
	alice.Send(t, secret, "after bob", "after-remove")
	for _, l := range conns {
		l.noEvent(t, quiet, "an event of a room bob was removed from", inRoom(secret))
	}

	lobby := createRoom(t, alice, "lobby", chatv1.Visibility_VISIBILITY_PUBLIC)
	bob.Join(t, lobby) // through A
	for _, l := range conns {
		l.waitEvent(t, "room_added for the joined room", roomAdded(bobID, lobby))
	}
	sent = alice.Send(t, lobby, "welcome", "welcome")
	for _, l := range conns {
		if got := l.message(t, lobby); got.GetSeq() != sent.GetSeq() {
			t.Fatalf("%s: got seq %d in the joined room, want %d", l.name, got.GetSeq(), sent.GetSeq())
		}
	}
}
