package push_test

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// receiptsUntil reads l's events up to the message at seq in room and
// returns the read receipts among them.
func receiptsUntil(tb testing.TB, l *live, room, seq int64) []*chatv1.ReadReceipt {
	tb.Helper()
	var got []*chatv1.ReadReceipt
	l.waitEvent(tb, "the message after the receipts", func(ev *chatv1.Event) bool {
		if r := ev.GetReadReceipt(); r != nil {
			got = append(got, r)
		}
		return ev.GetRoomId() == room && ev.GetMessageCreated().GetMessage().GetSeq() == seq
	})
	return got
}

func setSharing(tb testing.TB, c *testenv.Client, share bool) {
	tb.Helper()
	if _, err := c.Users.UpdateSettings(context.Background(), &chatv1.UpdateSettingsRequest{ShareReadReceipts: proto.Bool(share)}); err != nil {
		tb.Fatal(err)
	}
}

// TestReadEvents: a watermark moved through one process reaches every
// connection of the user, sockets and streams on both processes, as
// read_marker; the room hears read_receipt only on connections of users
// who share receipts, and a connection follows its user's setting as it
// changes (settings_changed).
func TestReadEvents(t *testing.T) {
	env := pushEnv(t, nil)
	a, b := testenv.Start(t, env), testenv.Start(t, env)
	alice, bob, carol := member(t, a, "alice"), member(t, a, "bob"), member(t, a, "carol")
	bobID := userID(t, bob)
	setSharing(t, carol, false)
	alice.Send(t, testenv.General, "read me", "1")

	bobWS, _ := openWS(t, a, bob)
	bobStream, _ := subscribe(t, b, newSession(t, b, "bob"), testenv.Protocols[1])
	aliceWS, _ := openWS(t, b, alice)
	carolWS, _ := openWS(t, a, carol)

	if _, err := bob.Rooms.MarkRead(context.Background(), &chatv1.MarkReadRequest{RoomId: testenv.General, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*live{bobWS, bobStream} {
		ev := l.waitEvent(t, "read_marker", func(ev *chatv1.Event) bool { return ev.GetReadMarker() != nil })
		if m := ev.GetReadMarker(); m.GetRoomId() != testenv.General || m.GetReadSeq() != 1 || ev.GetUserId() != bobID {
			t.Fatalf("%s: read_marker %v", l.name, ev)
		}
	}
	sentinel := alice.Send(t, testenv.General, "after the receipt", "2").GetSeq()
	if got := receiptsUntil(t, aliceWS, testenv.General, sentinel); len(got) != 1 || got[0].GetUserId() != bobID || got[0].GetReadSeq() != 1 {
		t.Fatalf("alice heard %v, want bob's receipt at 1", got)
	}
	if got := receiptsUntil(t, carolWS, testenv.General, sentinel); len(got) != 0 {
		t.Fatalf("carol, who does not share, heard %v", got)
	}

	setSharing(t, carol, true)
	carolWS.waitEvent(t, "settings_changed", func(ev *chatv1.Event) bool {
		return ev.GetSettingsChanged().GetSettings().GetShareReadReceipts()
	})
	if _, err := bob.Rooms.MarkRead(context.Background(), &chatv1.MarkReadRequest{RoomId: testenv.General, Seq: sentinel}); err != nil {
		t.Fatal(err)
	}
	// Within chat.ReceiptWindow of bob's first receipt, this one comes when
	// the window ends.
	ev := carolWS.waitEvent(t, "read_receipt", func(ev *chatv1.Event) bool { return ev.GetReadReceipt() != nil })
	if r := ev.GetReadReceipt(); r.GetUserId() != bobID || r.GetReadSeq() != sentinel {
		t.Fatalf("carol, sharing now, heard %v, want bob's receipt at %d", r, sentinel)
	}
}
