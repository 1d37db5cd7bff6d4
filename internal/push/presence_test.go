package push_test

import (
	"strconv"
	"testing"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/testenv"
)

func isTyping(uid int64) func(*chatv1.Event) bool {
	return func(ev *chatv1.Event) bool {
		return ev.GetTyping() != nil && ev.GetTyping().GetUserId() == uid && ev.GetRoomId() == testenv.General
	}
}

// TestTyping: typing is relayed to the room's others, at most once per user
// and room per window, and never stored.
func TestTyping(t *testing.T) {
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	aliceID := userID(t, alice)
	before := lastSeq(t, bob, testenv.General)
	la, _ := openWS(t, srv, alice)
	lb, _ := openWS(t, srv, bob)
	lb.send(t, `{"ping":{}}`)

	typing := `{"typing":{"roomId":"` + strconv.FormatInt(testenv.General, 10) + `"}}`
	la.send(t, typing)
	first := time.Now()
	lb.waitEvent(t, "alice typing", isTyping(aliceID))
	for range 5 {
		la.send(t, typing)
	}
	lb.noEvent(t, time.Second, "a second typing event within the window", isTyping(aliceID))

	time.Sleep(time.Until(first.Add(chat.TypingWindow + 200*time.Millisecond)))
	la.send(t, typing)
	lb.waitEvent(t, "alice typing after the window", isTyping(aliceID))

	if after := lastSeq(t, bob, testenv.General); after != before {
		t.Fatalf("typing stored something: last seq %d → %d", before, after)
	}
}

// TestPresence: connecting and closing push presence_changed to the room
// at once (after the short debounce), and a quick reconnect publishes no
// offline/online pair.
func TestPresence(t *testing.T) {
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	aliceID := userID(t, alice)
	lb, _ := openWS(t, srv, bob)
	lb.send(t, `{"ping":{}}`)

	la, _ := openWS(t, srv, alice)
	lb.waitEvent(t, "alice online", isPresence(aliceID, true))

	// Quick reconnect: close and open again within the debounce.
	la.ws.Close()
	la, _ = openWS(t, srv, alice)
	lb.noEvent(t, presenceGraceAndMargin+time.Second, "presence flapping on a quick reconnect", isAnyPresence(aliceID))

	// Many quick reconnects: still nothing.
	for range 5 {
		la.ws.Close()
		la, _ = openWS(t, srv, alice)
	}
	lb.noEvent(t, presenceGraceAndMargin+time.Second, "presence flapping on quick reconnects", isAnyPresence(aliceID))

	// A clean close: offline soon after the debounce.
	closed := time.Now()
	la.ws.Close()
	lb.waitEvent(t, "alice offline", isPresence(aliceID, false))
	took := time.Since(closed)
	t.Logf("offline published %s after a clean close", took.Round(10*time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("offline took %s after a clean close; want about the 2 s debounce", took)
	}
	if online(t, bob, testenv.General, aliceID) {
		t.Error("ListMembers still says alice is online")
	}
	lb.noEvent(t, quiet, "a second offline", isAnyPresence(aliceID))
}
