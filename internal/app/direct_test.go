package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// signups registers a user per name on srv over p, in order.
func signups(t *testing.T, srv *testenv.Server, p testenv.Protocol, names ...string) []*testenv.Client {
	t.Helper()
	out := make([]*testenv.Client, len(names))
	for i, name := range names {
		out[i] = testenv.NewClient(srv, p)
		out[i].Signup(t, name)
	}
	return out
}

// openDirect opens the caller's conversation with the users named or fails
// the test.
func openDirect(t *testing.T, c *testenv.Client, usernames ...string) *chatv1.Room {
	t.Helper()
	res, err := c.Rooms.OpenDirect(context.Background(), &chatv1.OpenDirectRequest{Usernames: usernames})
	if err != nil {
		t.Fatalf("open direct %v: %v", usernames, err)
	}
	return res.GetRoom()
}

func memberNames(r *chatv1.Room) []string {
	var names []string
	for _, u := range r.GetMembers() {
		names = append(names, u.GetUsername())
	}
	slices.Sort(names)
	return names
}

// listed reports whether the room is in the caller's room list, which
// must name each room once, in id order.
func listed(t *testing.T, c *testenv.Client, roomID int64) bool {
	t.Helper()
	list, err := c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rooms := list.GetRooms()
	for i := 1; i < len(rooms); i++ {
		if rooms[i-1].GetId() >= rooms[i].GetId() {
			t.Fatalf("room list out of order or twice: %d then %d", rooms[i-1].GetId(), rooms[i].GetId())
		}
	}
	return slices.ContainsFunc(rooms, func(r *chatv1.Room) bool { return r.GetId() == roomID })
}

// wantRefused checks the answer a blocked user or one a policy keeps out
// gets: the same words either way, so a block is not revealed.
func wantRefused(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, connect.CodePermissionDenied)
	if !strings.Contains(err.Error(), "this user does not accept messages from you") {
		t.Fatalf("refused with %q", err)
	}
}

// TestDirectRooms: the pair's direct room is one room from either side,
// private to the two, cannot be left or added to, and comes back from
// hiding with the next message; bad names are refused with a sentence.
func TestDirectRooms(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		u := signups(t, srv, p, "ann_"+p.Name, "bo_"+p.Name, "cy_"+p.Name)
		ann, bo, cy := u[0], u[1], u[2]

		dm := openDirect(t, ann, "bo_"+p.Name)
		if dm.GetKind() != chatv1.RoomKind_ROOM_KIND_DIRECT || dm.GetVisibility() != chatv1.Visibility_VISIBILITY_PRIVATE ||
			!dm.GetJoined() || dm.GetMemberCount() != 2 || !slices.Equal(memberNames(dm), []string{"ann_" + p.Name, "bo_" + p.Name}) {
			t.Fatalf("direct room = %v", dm)
		}
		for _, u := range dm.GetMembers() {
			if u.GetEmail() != "" {
				t.Fatalf("a member's email is shown: %v", u)
			}
		}
		if again := openDirect(t, bo, "ann_"+p.Name); again.GetId() != dm.GetId() {
			t.Fatalf("bo opened room %d, ann %d", again.GetId(), dm.GetId())
		}
		if again := openDirect(t, ann, strings.ToUpper("bo_"+p.Name)); again.GetId() != dm.GetId() {
			t.Fatalf("another spelling opened room %d, want %d", again.GetId(), dm.GetId())
		}
		if r := roomOf(t, bo, dm.GetId()); r.GetKind() != chatv1.RoomKind_ROOM_KIND_DIRECT || len(r.GetMembers()) != 2 {
			t.Fatalf("bo's list shows %v", r)
		}
		if r := roomOf(t, ann, testenv.General); r.GetKind() != chatv1.RoomKind_ROOM_KIND_CHANNEL || len(r.GetMembers()) != 0 {
			t.Fatalf("a channel is listed as %v", r)
		}

		t.Run("BadInput", func(t *testing.T) {
			_, err := ann.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: []string{"ann_" + p.Name}})
			wantCode(t, err, connect.CodeInvalidArgument)
			if !strings.Contains(err.Error(), "yourself") {
				t.Fatalf("opening with oneself says %q", err)
			}
			_, err = ann.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: []string{"bo_" + p.Name, "nobody_" + p.Name}})
			wantCode(t, err, connect.CodeNotFound)
			if !strings.Contains(err.Error(), "nobody_"+p.Name) {
				t.Fatalf("an unknown user is answered %q, without the name", err)
			}
			var ten []string
			for i := range 10 {
				ten = append(ten, fmt.Sprintf("someone%d", i))
			}
			for name, names := range map[string][]string{"ErrNone": nil, "ErrTen": ten, "ErrBadName": {"no spaces"}} {
				t.Run(name, func(t *testing.T) {
					_, err := ann.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: names})
					wantCode(t, err, connect.CodeInvalidArgument)
				})
			}
		})

		t.Run("PrivateToThePair", func(t *testing.T) {
			if listed(t, cy, dm.GetId()) {
				t.Fatal("a direct room is listed to a stranger")
			}
			_, err := cy.Rooms.JoinRoom(ctx, &chatv1.JoinRoomRequest{RoomId: dm.GetId()})
			wantCode(t, err, connect.CodeNotFound)
			_, err = cy.Rooms.ListMembers(ctx, &chatv1.ListMembersRequest{RoomId: dm.GetId()})
			wantCode(t, err, connect.CodeNotFound)
			_, err = cy.Rooms.HideRoom(ctx, &chatv1.HideRoomRequest{RoomId: dm.GetId()})
			wantCode(t, err, connect.CodeNotFound)
			members, err := ann.Rooms.ListMembers(ctx, &chatv1.ListMembersRequest{RoomId: dm.GetId()})
			if err != nil || len(members.GetMembers()) != 2 {
				t.Fatalf("ann's members: %v, %v", members, err)
			}
		})

		t.Run("CannotBeLeftOrAddedTo", func(t *testing.T) {
			_, err := ann.Rooms.LeaveRoom(ctx, &chatv1.LeaveRoomRequest{RoomId: dm.GetId()})
			wantCode(t, err, connect.CodeFailedPrecondition)
			if !strings.Contains(err.Error(), "hide it instead") {
				t.Fatalf("leaving says %q", err)
			}
			_, err = ann.Rooms.AddMember(ctx, &chatv1.AddMemberRequest{RoomId: dm.GetId(), Username: "cy_" + p.Name})
			wantCode(t, err, connect.CodeFailedPrecondition)
			if !listed(t, ann, dm.GetId()) {
				t.Fatal("ann is no longer in the direct room")
			}
		})

		t.Run("HiddenUntilTheNextMessage", func(t *testing.T) {
			if _, err := ann.Rooms.HideRoom(ctx, &chatv1.HideRoomRequest{RoomId: dm.GetId()}); err != nil {
				t.Fatal(err)
			}
			if listed(t, ann, dm.GetId()) {
				t.Fatal("a hidden room is still listed")
			}
			if !listed(t, bo, dm.GetId()) {
				t.Fatal("ann's hiding took the room off bo's list")
			}
			bo.Send(t, dm.GetId(), "still there?", "hidden-1")
			r := roomOf(t, ann, dm.GetId())
			if r.GetUnreadCount() != 1 {
				t.Fatalf("back with %d unread, want 1", r.GetUnreadCount())
			}
			// Opening it again shows a hidden room too.
			if _, err := ann.Rooms.HideRoom(ctx, &chatv1.HideRoomRequest{RoomId: dm.GetId()}); err != nil {
				t.Fatal(err)
			}
			openDirect(t, ann, "bo_"+p.Name)
			if !listed(t, ann, dm.GetId()) {
				t.Fatal("opening a hidden room left it hidden")
			}
		})

		t.Run("ChannelsCannotBeHidden", func(t *testing.T) {
			ann.Join(t, testenv.General)
			_, err := ann.Rooms.HideRoom(ctx, &chatv1.HideRoomRequest{RoomId: testenv.General})
			wantCode(t, err, connect.CodeFailedPrecondition)
			_, err = ann.Rooms.HideRoom(ctx, &chatv1.HideRoomRequest{RoomId: 0})
			wantCode(t, err, connect.CodeInvalidArgument)
		})
	})
}

// TestGroupRooms: a set of people has one group, whoever opens it; any
// member adds others, members leave, and the room the current set opens
// follows the changes.
func TestGroupRooms(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		names := []string{"gann_", "gbo_", "gcy_", "gdee_", "geve_"}
		for i, n := range names {
			names[i] = n + p.Name
		}
		users := signups(t, srv, p, names...)
		ann, bo, cy, dee, eve := users[0], users[1], users[2], users[3], users[4]

		g := openDirect(t, ann, names[1], names[2])
		if g.GetKind() != chatv1.RoomKind_ROOM_KIND_GROUP || !slices.Equal(memberNames(g), names[:3]) || g.GetName() != "" {
			t.Fatalf("group = %v", g)
		}
		if again := openDirect(t, cy, names[1], names[0]); again.GetId() != g.GetId() {
			t.Fatalf("the same set opened room %d, want %d", again.GetId(), g.GetId())
		}
		if other := openDirect(t, ann, names[1], names[2], names[3]); other.GetId() == g.GetId() {
			t.Fatal("a larger set opened the same group")
		}
		if listed(t, dee, g.GetId()) {
			t.Fatal("a group is listed to a non-member")
		}

		// cy, not its opener, adds eve: the group is {ann, bo, cy, eve} now.
		added, err := cy.Rooms.AddMember(ctx, &chatv1.AddMemberRequest{RoomId: g.GetId(), Username: names[4]})
		if err != nil || added.GetMember().GetUser().GetUsername() != names[4] {
			t.Fatalf("a member adding to a group: %v, %v", added, err)
		}
		if r := roomOf(t, eve, g.GetId()); len(r.GetMembers()) != 4 || r.GetKind() != chatv1.RoomKind_ROOM_KIND_GROUP {
			t.Fatalf("eve sees %v", r)
		}
		if again := openDirect(t, bo, names[0], names[2], names[4]); again.GetId() != g.GetId() {
			t.Fatalf("the group's new set opened room %d, want %d", again.GetId(), g.GetId())
		}
		// Its old set is a new group.
		g2 := openDirect(t, ann, names[1], names[2])
		if g2.GetId() == g.GetId() {
			t.Fatal("the old set still opens the grown group")
		}
		// eve leaves: {ann, bo, cy} is g2's set, which keeps it.
		if _, err := eve.Rooms.LeaveRoom(ctx, &chatv1.LeaveRoomRequest{RoomId: g.GetId()}); err != nil {
			t.Fatal(err)
		}
		if listed(t, eve, g.GetId()) {
			t.Fatal("eve still lists the group she left")
		}
		if again := openDirect(t, cy, names[0], names[1]); again.GetId() != g2.GetId() {
			t.Fatalf("the set opened room %d, want g2 %d", again.GetId(), g2.GetId())
		}
		_, err = eve.Rooms.AddMember(ctx, &chatv1.AddMemberRequest{RoomId: g.GetId(), Username: names[4]})
		wantCode(t, err, connect.CodeNotFound)

		t.Run("HiddenUntilTheNextMessage", func(t *testing.T) {
			for _, c := range []*testenv.Client{ann, bo} {
				if _, err := c.Rooms.HideRoom(ctx, &chatv1.HideRoomRequest{RoomId: g2.GetId()}); err != nil {
					t.Fatal(err)
				}
			}
			if listed(t, ann, g2.GetId()) || listed(t, bo, g2.GetId()) || !listed(t, cy, g2.GetId()) {
				t.Fatal("hiding is not each member's own")
			}
			cy.Send(t, g2.GetId(), "hello both", "g2-1")
			if !listed(t, ann, g2.GetId()) || !listed(t, bo, g2.GetId()) {
				t.Fatal("a message did not bring the group back to everyone who hid it")
			}
		})
	})
}

// TestGroupLimit: a group holds at most ten people.
func TestGroupLimit(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	p := testenv.Protocols[0]
	var names []string
	for i := range 11 {
		names = append(names, fmt.Sprintf("lim%d", i))
	}
	users := signups(t, srv, p, names...)
	g := openDirect(t, users[0], names[1:10]...)
	if g.GetMemberCount() != 10 {
		t.Fatalf("group of %d", g.GetMemberCount())
	}
	_, err := users[5].Rooms.AddMember(context.Background(), &chatv1.AddMemberRequest{RoomId: g.GetId(), Username: names[10]})
	wantCode(t, err, connect.CodeFailedPrecondition)
	if listed(t, users[10], g.GetId()) {
		t.Fatal("an eleventh member got in")
	}
}

// TestOpenDirectConcurrently: 50 calls at once for the same pair, from both
// sides, meet at one room and one row.
func TestOpenDirectConcurrently(t *testing.T) {
	env := testenv.ServerEnv(t)
	srv := testenv.Start(t, env)
	p := testenv.Protocols[0]
	u := signups(t, srv, p, "cann", "cbo")
	ann, bo := u[0], u[1]
	ids := make([]int64, 50)
	var wg sync.WaitGroup
	for i := range ids {
		c, other := ann, "cbo"
		if i%2 == 1 {
			c, other = bo, "cann"
		}
		wg.Go(func() {
			res, err := c.Rooms.OpenDirect(context.Background(), &chatv1.OpenDirectRequest{Usernames: []string{other}})
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			ids[i] = res.GetRoom().GetId()
		})
	}
	wg.Wait()
	if distinct := slices.Compact(slices.Sorted(slices.Values(ids))); len(distinct) != 1 || distinct[0] == 0 {
		t.Fatalf("rooms opened: %v", distinct)
	}
	db, err := sql.Open("mysql", env["PARLEY_MYSQL_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow("SELECT COUNT(*) FROM rooms WHERE kind = 2").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("%d direct rooms stored, want 1", rows)
	}
}

// TestOpenDirectRefused: a block, from either side, and a friends-only
// policy keep a user from opening a direct room or adding to a group, with
// one answer that does not say which.
func TestOpenDirectRefused(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	p := testenv.Protocols[0]
	ctx := context.Background()
	u := signups(t, srv, p, "rann", "rbo", "rcy", "rdee")
	ann, bo, cy, dee := u[0], u[1], u[2], u[3]
	group := openDirect(t, cy, "rbo", "rdee")

	t.Run("Blocked", func(t *testing.T) {
		block(t, ann, userID(t, bo))
		defer unblock(t, ann, userID(t, bo))
		_, err := bo.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: []string{"rann"}})
		wantRefused(t, err)
		_, err = bo.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: []string{"rcy", "rann"}})
		wantRefused(t, err)
		_, err = bo.Rooms.AddMember(ctx, &chatv1.AddMemberRequest{RoomId: group.GetId(), Username: "rann"})
		wantRefused(t, err)
		// The blocker cannot write to whom they blocked either, nor add them.
		_, err = ann.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: []string{"rbo"}})
		wantCode(t, err, connect.CodePermissionDenied)
		_, err = ann.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: []string{"rbo", "rcy"}})
		wantCode(t, err, connect.CodePermissionDenied)
		own := openDirect(t, ann, "rcy", "rdee")
		_, err = ann.Rooms.AddMember(ctx, &chatv1.AddMemberRequest{RoomId: own.GetId(), Username: "rbo"})
		wantCode(t, err, connect.CodePermissionDenied)
		if listed(t, ann, group.GetId()) {
			t.Fatal("ann was added to a group by someone she blocked")
		}
		// Someone else may still add her.
		if _, err := cy.Rooms.AddMember(ctx, &chatv1.AddMemberRequest{RoomId: group.GetId(), Username: "rann"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("FriendsOnly", func(t *testing.T) {
		res, err := dee.Users.UpdateSettings(ctx, &chatv1.UpdateSettingsRequest{DmPolicy: chatv1.DmPolicy_DM_POLICY_FRIENDS.Enum()})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetSettings().GetDmPolicy() != chatv1.DmPolicy_DM_POLICY_FRIENDS {
			t.Fatalf("dm_policy after UpdateSettings: %v", res.GetSettings().GetDmPolicy())
		}
		_, err = ann.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: []string{"rdee"}})
		wantRefused(t, err)
		_, err = ann.Rooms.OpenDirect(ctx, &chatv1.OpenDirectRequest{Usernames: []string{"rbo", "rdee"}})
		wantRefused(t, err)
	})
}

// TestUpdateRoom: a channel's owner renames it and changes its topic, the
// members hear it; others, conversations and a taken name are refused.
func TestUpdateRoom(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		u := signups(t, srv, p, "uowner_"+p.Name, "umember_"+p.Name, "ustranger_"+p.Name)
		owner, member, stranger := u[0], u[1], u[2]
		room := newRoom(t, owner, "before "+p.Name, chatv1.Visibility_VISIBILITY_PUBLIC)
		member.Join(t, room)
		ws, _ := testenv.DialWS(t, srv.URL, member.Token)

		res, err := owner.Rooms.UpdateRoom(ctx, &chatv1.UpdateRoomRequest{RoomId: room, Name: proto.String(" after " + p.Name + " "), Topic: proto.String("new topic")})
		if err != nil || res.GetRoom().GetName() != "after "+p.Name || res.GetRoom().GetTopic() != "new topic" {
			t.Fatalf("update: %v, %v", res, err)
		}
		var updated *chatv1.RoomUpdated
		nextEvents(t, ws, func(ev *chatv1.Event) bool { updated = ev.GetRoomUpdated(); return updated != nil })
		if updated.GetRoom().GetId() != room || updated.GetRoom().GetName() != "after "+p.Name || updated.GetRoom().GetTopic() != "new topic" {
			t.Fatalf("the member heard %v", updated)
		}
		// A field left out stays.
		res, err = owner.Rooms.UpdateRoom(ctx, &chatv1.UpdateRoomRequest{RoomId: room, Topic: proto.String("")})
		if err != nil || res.GetRoom().GetName() != "after "+p.Name || res.GetRoom().GetTopic() != "" {
			t.Fatalf("topic only: %v, %v", res, err)
		}
		// The old name is free again.
		newRoom(t, stranger, "before "+p.Name, chatv1.Visibility_VISIBILITY_PUBLIC)

		_, err = owner.Rooms.UpdateRoom(ctx, &chatv1.UpdateRoomRequest{RoomId: room, Name: proto.String("general")})
		wantCode(t, err, connect.CodeAlreadyExists)
		if !strings.Contains(err.Error(), "a room with that name exists") {
			t.Fatalf("a taken name says %q", err)
		}
		_, err = member.Rooms.UpdateRoom(ctx, &chatv1.UpdateRoomRequest{RoomId: room, Name: proto.String("mine " + p.Name)})
		wantCode(t, err, connect.CodePermissionDenied)
		priv := newRoom(t, owner, "hidden "+p.Name, chatv1.Visibility_VISIBILITY_PRIVATE)
		_, err = stranger.Rooms.UpdateRoom(ctx, &chatv1.UpdateRoomRequest{RoomId: priv, Name: proto.String("x")})
		wantCode(t, err, connect.CodeNotFound)
		dm := openDirect(t, owner, "umember_"+p.Name)
		_, err = owner.Rooms.UpdateRoom(ctx, &chatv1.UpdateRoomRequest{RoomId: dm.GetId(), Name: proto.String("ours")})
		wantCode(t, err, connect.CodeFailedPrecondition)
		_, err = owner.Rooms.UpdateRoom(ctx, &chatv1.UpdateRoomRequest{RoomId: room, Name: proto.String("bidi\u202e")})
		wantCode(t, err, connect.CodeInvalidArgument)
	})
}

// roomAdded reads ws's events until RoomAdded of the room.
func roomAdded(t *testing.T, ws *testenv.WS, roomID int64) *chatv1.Room {
	t.Helper()
	var r *chatv1.Room
	nextEvents(t, ws, func(ev *chatv1.Event) bool {
		r = ev.GetRoomAdded().GetRoom()
		return r.GetId() == roomID
	})
	return r
}

// TestDirectEventsAcrossProcesses: a direct room opened through one chatd
// reaches both people's sockets on another at once, then its messages do;
// a hidden room comes back to its sessions with the next message.
func TestDirectEventsAcrossProcesses(t *testing.T) {
	env := testenv.ServerEnv(t)
	one, two := testenv.Start(t, env), testenv.Start(t, env)
	p := testenv.Protocols[0]
	u := signups(t, one, p, "eann", "ebo")
	ann, bo := u[0], u[1]
	annWS, _ := testenv.DialWS(t, two.URL, ann.Token)
	boWS, _ := testenv.DialWS(t, one.URL, bo.Token)

	dm := openDirect(t, ann, "ebo")
	for name, ws := range map[string]*testenv.WS{"ann": annWS, "bo": boWS} {
		if r := roomAdded(t, ws, dm.GetId()); r.GetKind() != chatv1.RoomKind_ROOM_KIND_DIRECT || len(r.GetMembers()) != 2 {
			t.Fatalf("%s heard %v", name, r)
		}
	}
	seq := bo.Send(t, dm.GetId(), "hi ann", "e1").GetSeq()
	nextEvents(t, annWS, isMessage(dm.GetId(), seq))

	if _, err := ann.Rooms.HideRoom(context.Background(), &chatv1.HideRoomRequest{RoomId: dm.GetId()}); err != nil {
		t.Fatal(err)
	}
	seq = bo.Send(t, dm.GetId(), "are you there?", "e2").GetSeq()
	if r := roomAdded(t, annWS, dm.GetId()); r.GetUnreadCount() != 2 || r.GetLastSeq() < seq {
		t.Fatalf("the room came back as %v", r)
	}
	// The room's events go on reaching her after it is back.
	seq = bo.Send(t, dm.GetId(), "good", "e3").GetSeq()
	nextEvents(t, annWS, isMessage(dm.GetId(), seq))
}
