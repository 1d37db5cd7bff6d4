package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// notAccepted is what a blocked user hears, exactly as a policy refusal.
const notAccepted = "this user does not accept messages from you"

func wantError(t *testing.T, err error, code connect.Code, msg string) {
	t.Helper()
	wantCode(t, err, code)
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %q does not say %q", err, msg)
	}
}

func askFriend(t *testing.T, c *testenv.Client, username string) bool {
	t.Helper()
	res, err := c.Friends.SendFriendRequest(context.Background(), &chatv1.SendFriendRequestRequest{Username: username})
	if err != nil {
		t.Fatalf("friend request to %s: %v", username, err)
	}
	return res.GetFriends()
}

func friendsOf(t *testing.T, c *testenv.Client) *chatv1.ListFriendsResponse {
	t.Helper()
	res, err := c.Friends.ListFriends(context.Background(), &chatv1.ListFriendsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// names lists the usernames of users, friends or requests, in order.
func names[T interface{ GetUser() *chatv1.User }](xs []T) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.GetUser().GetUsername()
	}
	return strings.Join(out, ",")
}

func usernames(us []*chatv1.User) string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.GetUsername()
	}
	return strings.Join(out, ",")
}

func block(t *testing.T, c *testenv.Client, id int64) {
	t.Helper()
	if _, err := c.Friends.BlockUser(context.Background(), &chatv1.BlockUserRequest{UserId: id}); err != nil {
		t.Fatalf("block %d: %v", id, err)
	}
}

func unblock(t *testing.T, c *testenv.Client, id int64) {
	t.Helper()
	if _, err := c.Friends.UnblockUser(context.Background(), &chatv1.UnblockUserRequest{UserId: id}); err != nil {
		t.Fatalf("unblock %d: %v", id, err)
	}
}

// TestProfiles: GetUser by id and username shows the status and hides
// others' emails; UpdateProfile changes what it names and refuses control
// characters and long statuses; dm_policy defaults to everyone and sticks.
func TestProfiles(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		ann, bo := testenv.NewClient(srv, p), testenv.NewClient(srv, p)
		ann.Signup(t, "ann_"+p.Name)
		bo.Signup(t, "bo_"+p.Name)

		res, err := ann.Users.UpdateProfile(ctx, &chatv1.UpdateProfileRequest{DisplayName: proto.String("  Ann Lee "), StatusText: proto.String("on holiday 🌴")})
		if err != nil {
			t.Fatal(err)
		}
		if u := res.GetUser(); u.GetDisplayName() != "Ann Lee" || u.GetStatusText() != "on holiday 🌴" || u.GetEmail() == "" {
			t.Fatalf("updated profile = %v", u)
		}
		res, err = ann.Users.UpdateProfile(ctx, &chatv1.UpdateProfileRequest{StatusText: proto.String("back")})
		if err != nil || res.GetUser().GetDisplayName() != "Ann Lee" || res.GetUser().GetStatusText() != "back" {
			t.Fatalf("status only: %v, %v; the display name must stay", res, err)
		}
		byID, err := bo.Users.GetUser(ctx, &chatv1.GetUserRequest{User: &chatv1.GetUserRequest_UserId{UserId: res.GetUser().GetId()}})
		if err != nil {
			t.Fatal(err)
		}
		byName, err := bo.Users.GetUser(ctx, &chatv1.GetUserRequest{User: &chatv1.GetUserRequest_Username{Username: strings.ToUpper("ann_" + p.Name)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*chatv1.User{byID.GetUser(), byName.GetUser()} {
			if u.GetUsername() != "ann_"+p.Name || u.GetStatusText() != "back" || u.GetEmail() != "" {
				t.Fatalf("bo sees ann as %v; want her status and no email", u)
			}
		}
		_, err = bo.Users.GetUser(ctx, &chatv1.GetUserRequest{User: &chatv1.GetUserRequest_Username{Username: "nobody_here"}})
		wantError(t, err, connect.CodeNotFound, `no user named "nobody_here"`)
		_, err = bo.Users.GetUser(ctx, &chatv1.GetUserRequest{User: &chatv1.GetUserRequest_UserId{UserId: 1 << 40}})
		wantError(t, err, connect.CodeNotFound, "user 1099511627776 not found")
		_, err = bo.Users.GetUser(ctx, &chatv1.GetUserRequest{})
		wantCode(t, err, connect.CodeInvalidArgument)

		for name, up := range map[string]*chatv1.UpdateProfileRequest{
			"ErrNameControl":   {DisplayName: proto.String("Ann\u0007")},
			"ErrNameBidi":      {DisplayName: proto.String("Ann\u202e")},
			"ErrNameEmpty":     {DisplayName: proto.String("")},
			"ErrNameBlank":     {DisplayName: proto.String("\u3164")},
			"ErrStatusControl": {StatusText: proto.String("line\nbreak")},
			"ErrStatusLong":    {StatusText: proto.String(strings.Repeat("é", 141))},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := ann.Users.UpdateProfile(ctx, up)
				wantCode(t, err, connect.CodeInvalidArgument)
			})
		}
		if _, err := ann.Users.UpdateProfile(ctx, &chatv1.UpdateProfileRequest{StatusText: proto.String(strings.Repeat("é", 140))}); err != nil {
			t.Fatalf("140 characters are allowed: %v", err)
		}

		set, err := ann.Users.GetSettings(ctx, &chatv1.GetSettingsRequest{})
		if err != nil || set.GetSettings().GetDmPolicy() != chatv1.DmPolicy_DM_POLICY_EVERYONE {
			t.Fatalf("default settings %v, %v; want DM_POLICY_EVERYONE", set, err)
		}
		up, err := ann.Users.UpdateSettings(ctx, &chatv1.UpdateSettingsRequest{DmPolicy: chatv1.DmPolicy_DM_POLICY_FRIENDS.Enum()})
		if err != nil || up.GetSettings().GetDmPolicy() != chatv1.DmPolicy_DM_POLICY_FRIENDS || !up.GetSettings().GetShareReadReceipts() {
			t.Fatalf("set friends only: %v, %v", up, err)
		}
		set, err = ann.Users.GetSettings(ctx, &chatv1.GetSettingsRequest{})
		if err != nil || set.GetSettings().GetDmPolicy() != chatv1.DmPolicy_DM_POLICY_FRIENDS {
			t.Fatalf("settings after update %v, %v", set, err)
		}
	})
}

// TestSearchUsers: a prefix of a username or display name finds the user,
// ignoring case; the caller and those who blocked the caller are left out
// (those the caller blocked are not); no email is ever returned.
func TestSearchUsers(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		n := func(s string) string { return p.Name + "_" + s }
		me, zoe, zed, blocker := testenv.NewClient(srv, p), testenv.NewClient(srv, p), testenv.NewClient(srv, p), testenv.NewClient(srv, p)
		me.Signup(t, n("zme"))
		zoe.Signup(t, n("zoe"))
		zed.Signup(t, n("zed"))
		blocker.Signup(t, n("zblocker"))
		if _, err := zed.Users.UpdateProfile(ctx, &chatv1.UpdateProfileRequest{DisplayName: proto.String("Quentin " + p.Name)}); err != nil {
			t.Fatal(err)
		}
		block(t, blocker, userID(t, me))
		block(t, me, userID(t, zoe))

		search := func(q string, limit int32) string {
			t.Helper()
			res, err := me.Users.SearchUsers(ctx, &chatv1.SearchUsersRequest{Query: q, Limit: limit})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			for _, u := range res.GetUsers() {
				if u.GetEmail() != "" {
					t.Fatalf("search %q returned an email: %v", q, u)
				}
			}
			return usernames(res.GetUsers())
		}
		if got, want := search(strings.ToUpper(n("Z")), 0), n("zed")+","+n("zoe"); got != want {
			t.Fatalf("search Z = %s; want %s, without the caller or the blocker", got, want)
		}
		if got := search("quentin "+strings.ToUpper(p.Name), 0); got != n("zed") {
			t.Fatalf("display name prefix found %q, want %s", got, n("zed"))
		}
		if got := search(n("ZO"), 1); got != n("zoe") {
			t.Fatalf("search ZO limit 1 = %q", got)
		}
		_, err := me.Users.SearchUsers(ctx, &chatv1.SearchUsersRequest{Query: "z", Limit: 51})
		wantCode(t, err, connect.CodeInvalidArgument)
	})
}

// TestFriendRequests: asked, listed on both sides, accepted, removed;
// declined and cancelled requests go; asking someone who asked you makes
// friends at once; yourself and unknown users are refused with a sentence.
func TestFriendRequests(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		n := func(s string) string { return s + "_" + p.Name }
		ann, bo, cy := testenv.NewClient(srv, p), testenv.NewClient(srv, p), testenv.NewClient(srv, p)
		ann.Signup(t, n("fann"))
		bo.Signup(t, n("fbo"))
		cy.Signup(t, n("fcy"))
		annID, boID, cyID := userID(t, ann), userID(t, bo), userID(t, cy)

		if askFriend(t, ann, n("fbo")) || askFriend(t, ann, strings.ToUpper(n("fbo"))) {
			t.Fatal("a first request (and its repeat) made friends at once")
		}
		if got := names(friendsOf(t, bo).GetIncoming()); got != n("fann") {
			t.Fatalf("bo's incoming = %q", got)
		}
		if got := names(friendsOf(t, ann).GetOutgoing()); got != n("fbo") {
			t.Fatalf("ann's outgoing = %q", got)
		}
		if _, err := bo.Friends.RespondFriendRequest(ctx, &chatv1.RespondFriendRequestRequest{UserId: annID, Accept: true}); err != nil {
			t.Fatal(err)
		}
		for c, want := range map[*testenv.Client]string{ann: n("fbo"), bo: n("fann")} {
			list := friendsOf(t, c)
			if names(list.GetFriends()) != want || len(list.GetIncoming())+len(list.GetOutgoing()) != 0 || list.GetFriends()[0].GetOnline() {
				t.Fatalf("friends = %v; want only %s, offline, and no requests", list, want)
			}
		}
		if _, err := bo.Friends.RespondFriendRequest(ctx, &chatv1.RespondFriendRequestRequest{UserId: annID, Accept: true}); err != nil {
			t.Fatalf("a repeated accept: %v", err)
		}
		if _, err := ann.Friends.RemoveFriend(ctx, &chatv1.RemoveFriendRequest{UserId: boID}); err != nil {
			t.Fatal(err)
		}
		if got := friendsOf(t, bo).GetFriends(); len(got) != 0 {
			t.Fatalf("bo's friends after the removal: %v", got)
		}

		askFriend(t, cy, n("fann"))
		if _, err := ann.Friends.RespondFriendRequest(ctx, &chatv1.RespondFriendRequestRequest{UserId: cyID}); err != nil {
			t.Fatal(err)
		}
		_, err := ann.Friends.RespondFriendRequest(ctx, &chatv1.RespondFriendRequestRequest{UserId: cyID, Accept: true})
		wantError(t, err, connect.CodeNotFound, "has not asked to be your friend")
		askFriend(t, cy, n("fann"))
		if _, err := cy.Friends.CancelFriendRequest(ctx, &chatv1.CancelFriendRequestRequest{UserId: annID}); err != nil {
			t.Fatal(err)
		}
		if list := friendsOf(t, ann); len(list.GetIncoming())+len(list.GetFriends()) != 0 {
			t.Fatalf("ann after a decline and a cancel: %v", list)
		}

		askFriend(t, bo, n("fcy"))
		if !askFriend(t, cy, n("fbo")) {
			t.Fatal("asking someone who asked you did not make friends")
		}
		if got := names(friendsOf(t, bo).GetFriends()); got != n("fcy") {
			t.Fatalf("bo's friends = %q", got)
		}

		_, err = ann.Friends.SendFriendRequest(ctx, &chatv1.SendFriendRequestRequest{Username: n("fann")})
		wantError(t, err, connect.CodeInvalidArgument, "yourself")
		_, err = ann.Friends.SendFriendRequest(ctx, &chatv1.SendFriendRequestRequest{Username: "nobody_at_all"})
		wantError(t, err, connect.CodeNotFound, `no user named "nobody_at_all"`)
	})
}

// TestBlocking: a block ends the friendship and any request both ways; the
// blocked user is refused a request with the policy's sentence, the
// blocker is told to unblock first; a block is listed, repeatable, and
// lifted by UnblockUser.
func TestBlocking(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		n := func(s string) string { return s + "_" + p.Name }
		ann, bo, cy := testenv.NewClient(srv, p), testenv.NewClient(srv, p), testenv.NewClient(srv, p)
		ann.Signup(t, n("bann"))
		bo.Signup(t, n("bbo"))
		cy.Signup(t, n("bcy"))
		boID, cyID := userID(t, bo), userID(t, cy)
		askFriend(t, ann, n("bbo"))
		askFriend(t, bo, n("bann"))
		askFriend(t, cy, n("bann"))

		block(t, ann, boID)
		block(t, ann, boID) // twice is fine
		block(t, ann, cyID)
		for _, c := range []*testenv.Client{ann, bo, cy} {
			if list := friendsOf(t, c); len(list.GetFriends())+len(list.GetIncoming())+len(list.GetOutgoing()) != 0 {
				t.Fatalf("after the blocks: %v; want no friends and no requests", list)
			}
		}
		blocked, err := ann.Friends.ListBlocked(ctx, &chatv1.ListBlockedRequest{})
		if err != nil || usernames(blocked.GetUsers()) != n("bbo")+","+n("bcy") {
			t.Fatalf("ann blocked %v, %v", blocked, err)
		}

		_, err = bo.Friends.SendFriendRequest(ctx, &chatv1.SendFriendRequestRequest{Username: n("bann")})
		wantError(t, err, connect.CodePermissionDenied, notAccepted)
		if err.(*connect.Error).Message() != notAccepted {
			t.Fatalf("the blocked user heard %q, want exactly %q", err.(*connect.Error).Message(), notAccepted)
		}
		_, err = ann.Friends.SendFriendRequest(ctx, &chatv1.SendFriendRequestRequest{Username: n("bbo")})
		wantError(t, err, connect.CodePermissionDenied, "unblock them first")
		_, err = ann.Friends.BlockUser(ctx, &chatv1.BlockUserRequest{UserId: 1 << 40})
		wantCode(t, err, connect.CodeNotFound)

		unblock(t, ann, boID)
		unblock(t, ann, boID)
		if askFriend(t, bo, n("bann")) {
			t.Fatal("a request after the unblock made friends at once")
		}
	})
}

// TestFriendRequestsAreLimited: past PARLEY_LIMIT_FRIEND_REQUEST a user's
// requests are refused with resource_exhausted and a wait.
func TestFriendRequestsAreLimited(t *testing.T) {
	env := testenv.ServerEnv(t)
	env["PARLEY_LIMIT_FRIEND_REQUEST"] = "3/1h"
	srv := testenv.Start(t, env)
	spammer := testenv.NewClient(srv, testenv.Protocols[0])
	spammer.Signup(t, "spammer")
	for i := range 4 {
		testenv.NewClient(srv, testenv.Protocols[0]).Signup(t, "target"+string(rune('a'+i)))
	}
	for i := range 3 {
		askFriend(t, spammer, "target"+string(rune('a'+i)))
	}
	_, err := spammer.Friends.SendFriendRequest(context.Background(), &chatv1.SendFriendRequestRequest{Username: "targetd"})
	if wait := retryAfter(t, err); wait < 10*time.Minute {
		t.Fatalf("wait %s; want about 20 minutes", wait)
	}
	wantError(t, err, connect.CodeResourceExhausted, "too many friend requests")
}

// TestRoomCreationIsLimited: a new public room is told to every connected
// user, so creating rooms (and opening conversations) is limited per user.
func TestRoomCreationIsLimited(t *testing.T) {
	env := testenv.ServerEnv(t)
	env["PARLEY_LIMIT_CREATE_ROOM"] = "2/1h"
	srv := testenv.Start(t, env)
	maker := testenv.NewClient(srv, testenv.Protocols[0])
	maker.Signup(t, "roommaker")
	testenv.NewClient(srv, testenv.Protocols[0]).Signup(t, "roomfriend")
	for _, name := range []string{"first", "second"} {
		if _, err := maker.Rooms.CreateRoom(context.Background(), &chatv1.CreateRoomRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := maker.Rooms.CreateRoom(context.Background(), &chatv1.CreateRoomRequest{Name: "third"})
	wantError(t, err, connect.CodeResourceExhausted, "creating rooms too fast")
	_, err = maker.Rooms.OpenDirect(context.Background(), &chatv1.OpenDirectRequest{Usernames: []string{"roomfriend"}})
	wantError(t, err, connect.CodeResourceExhausted, "creating rooms too fast")
}

// nextUserEvent reads ws's events until one for the user (room 0) that
// pick recognises, and returns it.
func nextUserEvent[T any](t *testing.T, ws *testenv.WS, pick func(*chatv1.Event) T) T {
	t.Helper()
	var got T
	nextEvents(t, ws, func(ev *chatv1.Event) bool {
		if ev.GetRoomId() != 0 {
			return false
		}
		got = pick(ev)
		return !isNil(got)
	})
	return got
}

func isNil[T any](v T) bool {
	var zero T
	return any(v) == any(zero)
}

// TestFriendEventsAcrossProcesses: ann on one chatd and bo on another hear
// every step of their friendship on every session, the sender's own as
// outgoing; friends hear each other's profile and presence, a user's
// sessions their new dm_policy; a block tells the blocker, and the blocked
// user only of the friendship's end.
func TestFriendEventsAcrossProcesses(t *testing.T) {
	env := testenv.ServerEnv(t)
	one, two := testenv.Start(t, env), testenv.Start(t, env)
	p := testenv.Protocols[0]
	ctx := context.Background()
	ann, bo := testenv.NewClient(one, p), testenv.NewClient(two, p)
	ann.Signup(t, "eann")
	bo.Signup(t, "ebo")
	annID, boID := userID(t, ann), userID(t, bo)
	annWS, _ := testenv.DialWS(t, one.URL, ann.Token)
	annOther, _ := testenv.DialWS(t, two.URL, ann.Token)
	boWS, _ := testenv.DialWS(t, two.URL, bo.Token)
	received := func(ev *chatv1.Event) *chatv1.FriendRequestReceived { return ev.GetFriendRequestReceived() }
	answered := func(ev *chatv1.Event) *chatv1.FriendRequestAnswered { return ev.GetFriendRequestAnswered() }

	askFriend(t, ann, "ebo")
	if r := nextUserEvent(t, boWS, received); r.GetOutgoing() || r.GetRequest().GetUser().GetUsername() != "eann" || r.GetRequest().GetUser().GetEmail() != "" {
		t.Fatalf("bo heard %v; want an incoming request from eann without her email", r)
	}
	for _, ws := range []*testenv.WS{annWS, annOther} {
		if r := nextUserEvent(t, ws, received); !r.GetOutgoing() || r.GetRequest().GetUser().GetUsername() != "ebo" {
			t.Fatalf("ann heard %v; want her outgoing request to ebo", r)
		}
	}
	if _, err := bo.Friends.RespondFriendRequest(ctx, &chatv1.RespondFriendRequestRequest{UserId: annID, Accept: true}); err != nil {
		t.Fatal(err)
	}
	for ws, other := range map[*testenv.WS]string{annWS: "ebo", annOther: "ebo", boWS: "eann"} {
		if a := nextUserEvent(t, ws, answered); !a.GetAccepted() || a.GetUser().GetUsername() != other {
			t.Fatalf("heard %v; want %s accepted", a, other)
		}
	}
	if f := friendsOf(t, ann).GetFriends(); len(f) != 1 || !f[0].GetOnline() {
		t.Fatalf("ann's friends %v; want bo, online", f)
	}

	// Profile: bo's own sessions and his friend hear his new status.
	if _, err := bo.Users.UpdateProfile(ctx, &chatv1.UpdateProfileRequest{StatusText: proto.String("lunch")}); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []*testenv.WS{annWS, boWS} {
		updated := nextUserEvent(t, ws, func(ev *chatv1.Event) *chatv1.User { return ev.GetUserUpdated().GetUser() })
		if updated.GetId() != boID || updated.GetStatusText() != "lunch" || updated.GetEmail() != "" {
			t.Fatalf("heard %v; want bo's new status", updated)
		}
	}

	// Settings: ann's other session hears her new policy.
	if _, err := ann.Users.UpdateSettings(ctx, &chatv1.UpdateSettingsRequest{DmPolicy: chatv1.DmPolicy_DM_POLICY_FRIENDS.Enum()}); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []*testenv.WS{annWS, annOther} {
		set := nextUserEvent(t, ws, func(ev *chatv1.Event) *chatv1.Settings { return ev.GetSettingsChanged().GetSettings() })
		if set.GetDmPolicy() != chatv1.DmPolicy_DM_POLICY_FRIENDS {
			t.Fatalf("ann heard settings %v; want friends only", set)
		}
	}

	// Presence: bo's last socket goes, then he is back.
	boWS.Close()
	presence := func(ev *chatv1.Event) *chatv1.PresenceChanged { return ev.GetPresenceChanged() }
	for _, ws := range []*testenv.WS{annWS, annOther} {
		if pc := nextUserEvent(t, ws, presence); pc.GetUserId() != boID || pc.GetOnline() {
			t.Fatalf("ann heard %v; want bo offline", pc)
		}
	}
	boWS, _ = testenv.DialWS(t, two.URL, bo.Token)
	for _, ws := range []*testenv.WS{annWS, annOther} {
		if pc := nextUserEvent(t, ws, presence); pc.GetUserId() != boID || !pc.GetOnline() {
			t.Fatalf("ann heard %v; want bo online", pc)
		}
	}

	// Block: both hear the friendship end, only ann of the block.
	block(t, ann, boID)
	removed := func(ev *chatv1.Event) *chatv1.FriendRemoved { return ev.GetFriendRemoved() }
	for ws, other := range map[*testenv.WS]int64{annWS: boID, boWS: annID} {
		if r := nextUserEvent(t, ws, removed); r.GetUserId() != other {
			t.Fatalf("heard %v; want the friendship with %d ended", r, other)
		}
	}
	if b := nextUserEvent(t, annOther, func(ev *chatv1.Event) *chatv1.BlockChanged { return ev.GetBlockChanged() }); !b.GetBlocked() || b.GetUser().GetId() != boID {
		t.Fatalf("ann heard %v; want bo blocked", b)
	}
	// The next event for bo is the request ann's unblock lets him send.
	unblock(t, ann, boID)
	askFriend(t, bo, "eann")
	if ev := nextEvents(t, boWS, func(ev *chatv1.Event) bool { return ev.GetFriendRequestReceived() != nil }); len(userEvents(ev)) != 0 {
		t.Fatalf("bo heard %v before his own request", userEvents(ev))
	}
}

// userEvents are the events among evs addressed to the user, not a room.
func userEvents(evs []*chatv1.Event) []*chatv1.Event {
	var out []*chatv1.Event
	for _, ev := range evs {
		if ev.GetRoomId() == 0 {
			out = append(out, ev)
		}
	}
	return out
}
