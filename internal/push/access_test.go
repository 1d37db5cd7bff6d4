package push_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// logoutWithin is the promise for closing a logged-out session's sockets.
const logoutWithin = 5 * time.Second

// inRoom tells an event for the room's members; a public room's listing
// (room_listed) is everyone's, members or not.
func inRoom(room int64) func(*chatv1.Event) bool {
	return func(ev *chatv1.Event) bool { return ev.GetRoomId() == room && ev.GetRoomListed() == nil }
}

func createRoom(tb testing.TB, c *testenv.Client, name string, v chatv1.Visibility) int64 {
	tb.Helper()
	res, err := c.Rooms.CreateRoom(context.Background(), &chatv1.CreateRoomRequest{Name: name, Visibility: v})
	if err != nil {
		tb.Fatalf("create room %s: %v", name, err)
	}
	return res.GetRoom().GetId()
}

// TestPrivateRoom: a non-member receives nothing of a private room, and a
// resume naming it answers not_found, over a socket and a stream.
func TestPrivateRoom(t *testing.T) {
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	la, _ := openWS(t, srv, alice)
	la.send(t, `{"ping":{}}`)
	sa, _ := subscribe(t, srv, alice, testenv.Protocols[1])
	lb, _ := openWS(t, srv, bob)
	lb.send(t, `{"ping":{}}`)

	secret := createRoom(t, bob, "secret", chatv1.Visibility_VISIBILITY_PRIVATE)
	bob.Send(t, secret, "for members only", "s1")
	if _, err := bob.Messages.SendTyping(context.Background(), &chatv1.SendTypingRequest{RoomId: secret}); err != nil {
		t.Fatal(err)
	}
	lb.message(t, secret) // the owner gets it, so it was published
	la.noEvent(t, quiet, "an event of the private room", inRoom(secret))
	sa.noEvent(t, 0, "an event of the private room", inRoom(secret))

	la.send(t, resumeFrame(secret, 0))
	if f := la.next(t, waitFor); f.GetError().GetCode() != "not_found" {
		t.Fatalf("resume of a private room: got %v, want not_found", f)
	}
	la.send(t, `{"typing":{"roomId":"`+strconv.FormatInt(secret, 10)+`"}}`)
	if f := la.next(t, waitFor); f.GetError().GetCode() != "not_found" {
		t.Fatalf("typing in a private room: got %v, want not_found", f)
	}

	sc := testenv.NewClient(srv, testenv.Protocols[1])
	sc.Token = alice.Token
	stream, err := sc.Messages.Subscribe(context.Background(), &chatv1.SubscribeRequest{Resume: []*chatv1.RoomCursor{{RoomId: secret}}})
	if err == nil {
		for stream.Receive() {
			if ev := stream.Msg().GetEvent(); ev.GetRoomId() == secret {
				t.Fatalf("stream sent %v", ev)
			}
		}
		err = stream.Err()
	}
	if testenv.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("Subscribe resuming a private room: got %v, want not_found", err)
	}
}

// TestLeaveRoom: after LeaveRoom no further event of that room arrives.
func TestLeaveRoom(t *testing.T) {
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	room := createRoom(t, bob, "lobby", chatv1.Visibility_VISIBILITY_PUBLIC)
	alice.Join(t, room)
	for _, over := range []string{"ws", "grpc"} {
		var l *live
		if over == "ws" {
			l, _ = openWS(t, srv, alice)
			l.send(t, `{"ping":{}}`)
		} else {
			l, _ = subscribe(t, srv, alice, testenv.Protocols[1])
		}
		bob.Send(t, room, "before", "before-"+over)
		l.message(t, room)

		if _, err := alice.Rooms.LeaveRoom(context.Background(), &chatv1.LeaveRoomRequest{RoomId: room}); err != nil {
			t.Fatal(err)
		}
		l.waitEvent(t, "member_left", func(ev *chatv1.Event) bool { return ev.GetMemberLeft() != nil && ev.GetRoomId() == room })
		bob.Send(t, room, "after", "after-"+over)
		if _, err := bob.Messages.SendTyping(context.Background(), &chatv1.SendTypingRequest{RoomId: room}); err != nil {
			t.Fatal(err)
		}
		l.noEvent(t, quiet, "an event of a room left", inRoom(room))
		alice.Join(t, room) // for the next transport
	}
}

// TestLogout: Logout closes that session's sockets and streams within 5 s,
// and leaves the user's other sessions alone.
func TestLogout(t *testing.T) {
	srv := startServer(t, nil)
	alice := member(t, srv, "alice")
	other := newSession(t, srv, "alice")

	ws, _ := openWS(t, srv, alice)
	stream, _ := subscribe(t, srv, alice, testenv.Protocols[1])
	kept, _ := openWS(t, srv, other)

	start := time.Now()
	if _, err := alice.Auth.Logout(context.Background(), &chatv1.LogoutRequest{}); err != nil {
		t.Fatal(err)
	}
	if e := ws.ended(t, logoutWithin); e.GetCode() != "unauthenticated" {
		t.Errorf("socket: got error %v, want unauthenticated", e)
	}
	stream.ended(t, logoutWithin-time.Since(start))
	if testenv.CodeOf(stream.err) != connect.CodeUnauthenticated {
		t.Errorf("stream ended with %v, want unauthenticated", stream.err)
	}
	t.Logf("logout closed the session's socket and stream in %s", time.Since(start).Round(time.Millisecond))

	kept.send(t, `{"ping":{}}`)
	if f := kept.next(t, waitFor); f.GetPong() == nil {
		t.Fatalf("the other session's socket: got %v, want pong", f)
	}
	// The logged-out token opens nothing any more.
	if _, resp, err := dialWS(t, srv, "", bearer(alice.Token)); err == nil || resp.StatusCode != 401 {
		t.Fatalf("reconnect with a logged-out token: HTTP %d (%v), want 401", resp.StatusCode, err)
	}
}
