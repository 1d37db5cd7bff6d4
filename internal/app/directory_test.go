package app_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/testenv"
)

// listing reads ws's events until a room_listed of the room that ok accepts.
// It returns that listing and how many of the room's listings came before.
func listing(t *testing.T, ws *testenv.WS, roomID int64, ok func(*chatv1.Room) bool) (*chatv1.Room, int) {
	t.Helper()
	var r *chatv1.Room
	n := 0
	nextEvents(t, ws, func(ev *chatv1.Event) bool {
		if r = ev.GetRoomListed().GetRoom(); r.GetId() != roomID {
			return false
		}
		n++
		return ok(r)
	})
	return r, n - 1
}

// streamListing is listing for a Subscribe stream.
func streamListing(t *testing.T, s *connect.ServerStreamForClient[chatv1.SubscribeResponse], roomID int64) *chatv1.Room {
	t.Helper()
	for s.Receive() {
		if r := s.Msg().GetEvent().GetRoomListed().GetRoom(); r.GetId() == roomID {
			return r
		}
	}
	t.Fatalf("Subscribe ended before room %d was listed: %v", roomID, s.Err())
	return nil
}

func membersOf(n int64) func(*chatv1.Room) bool {
	return func(r *chatv1.Room) bool { return r.GetMemberCount() == n }
}

// TestDirectoryLive: a public room created through one chatd is listed at
// once on a socket and a Subscribe stream of someone else on another, not
// joined; ListRooms shows it; a private room is never listed; a rename and
// joins by others move the listing; a burst of joins and leaves is told a
// few times a second, ending at the count it left.
func TestDirectoryLive(t *testing.T) {
	env := testenv.ServerEnv(t)
	one, two := testenv.Start(t, env), testenv.Start(t, env)
	p := testenv.Protocols[1] // gRPC, for the stream too
	u := signups(t, one, p, "lann", "lbo")
	ann, bo := u[0], u[1]
	bo2 := testenv.NewClient(two, p)
	bo2.Token = bo.Token
	boWS, _ := testenv.DialWS(t, two.URL, bo.Token)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := bo2.Messages.Subscribe(ctx, &chatv1.SubscribeRequest{})
	if err != nil || !stream.Receive() || stream.Msg().GetReady() == nil {
		t.Fatalf("Subscribe: no ready frame (%v, %v)", err, stream.Err())
	}

	newRoom(t, ann, "lsecret", chatv1.Visibility_VISIBILITY_PRIVATE)
	room := newRoom(t, ann, "lounge", chatv1.Visibility_VISIBILITY_PUBLIC)
	var private []string
	heard := map[string]*chatv1.Room{"stream": streamListing(t, stream, room)}
	nextEvents(t, boWS, func(ev *chatv1.Event) bool {
		r := ev.GetRoomListed().GetRoom()
		if r != nil && r.GetId() != room {
			private = append(private, r.GetName())
		}
		heard["socket"] = r
		return r.GetId() == room
	})
	if private != nil {
		t.Fatalf("bo's socket heard %v listed; a private room is never", private)
	}
	for name, r := range heard {
		if r.GetName() != "lounge" || r.GetJoined() || r.GetMemberCount() != 1 || r.GetUnreadCount() != 0 {
			t.Fatalf("bo's %s heard %v; want lounge, 1 member, not joined", name, r)
		}
	}
	res, err := bo2.Rooms.ListRooms(ctx, &chatv1.ListRoomsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasRoom(res.GetRooms(), room) {
		t.Fatalf("bo's ListRooms lacks the new room %d", room)
	}

	if _, err := ann.Rooms.UpdateRoom(ctx, &chatv1.UpdateRoomRequest{RoomId: room, Topic: proto.String("sofas")}); err != nil {
		t.Fatal(err)
	}
	listing(t, boWS, room, func(r *chatv1.Room) bool { return r.GetTopic() == "sofas" && !r.GetJoined() })
	joiners := signups(t, two, p, "lj1", "lj2", "lj3")
	for _, j := range joiners {
		j.Join(t, room)
	}
	listing(t, boWS, room, membersOf(4))

	burst(t, boWS, room, append(joiners, signups(t, one, p, "lj4", "lj5", "lj6", "lj7")...))
}

// burst joins and leaves the room with the users (their own processes)
// 50 times, then all join: the socket hears the final count after at most
// a few listings per second, however many changes there were.
func burst(t *testing.T, ws *testenv.WS, room int64, users []*testenv.Client) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	for i := range 50 {
		c := users[i%len(users)]
		if (i/len(users))%2 == 0 {
			_, err := c.Rooms.LeaveRoom(ctx, &chatv1.LeaveRoomRequest{RoomId: room})
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		c.Join(t, room)
	}
	for _, c := range users {
		c.Join(t, room)
	}
	final := int64(1 + len(users)) // ann and everyone
	_, before := listing(t, ws, room, membersOf(final))
	windows := int(time.Since(start)/chat.DirectoryWindow) + 1
	// Each window: one listing at once, and one at its end per process.
	if most := 3 * (windows + 1); before+1 > most {
		t.Fatalf("%d listings in %v for 57 changes; want at most %d", before+1, time.Since(start), most)
	}
	t.Logf("%d listings in %v", before+1, time.Since(start))
}

func hasRoom(rooms []*chatv1.Room, id int64) bool {
	for _, r := range rooms {
		if r.GetId() == id {
			return !r.GetJoined()
		}
	}
	return false
}
