package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// pubLine is a publication push as Centrifugo writes it, numbered by the
// sender's count k and, when offset > 0, by the channel's offset.
func pubLine(channel string, sender, k int, offset int) string {
	b := body(60, time.Now().Add(-3*time.Millisecond), "r1", sender, k)
	off := ""
	if offset > 0 {
		off = `,"offset":` + strconv.Itoa(offset)
	}
	return `{"push":{"channel":"` + channel + `","pub":{"data":{"body":"` + b + `"}` + off + `}}}`
}

func newTestCfClient(channels ...string) *cfClient {
	c := &cfClient{channels: map[string]*cfChannel{}}
	for _, ch := range channels {
		c.channels[ch] = &cfChannel{sent: map[senderKey]int64{}}
	}
	return c
}

// TestCentrifugoPackedMessages: one WebSocket message carries several
// pushes, one per line, and each is decoded and counted; without history
// the sender's own numbering finds the duplicate and the gap.
func TestCentrifugoPackedMessages(t *testing.T) {
	var tl tally
	c := newTestCfClient("room-0", "room-1")
	c.handle(&tl, []byte(strings.Join([]string{
		pubLine("room-0", 0, 0, 0),
		pubLine("room-0", 0, 1, 0),
		pubLine("room-1", 1, 0, 0),
		`{}`, // the server's ping, not answered: this client was not asked to
		`{"push":{"channel":"room-0","join":{"info":{"user":"","client":"c1"}}}}`,
	}, "\n")))
	c.handle(&tl, []byte(pubLine("room-0", 0, 1, 0)+"\n"+pubLine("room-0", 0, 4, 0)+"\n"))
	if got := tl.delivered.Load(); got != 4 {
		t.Errorf("delivered = %d, want 4", got)
	}
	if got := tl.duplicates.Load(); got != 1 {
		t.Errorf("duplicates = %d, want 1 (sender 0's send 1 twice)", got)
	}
	if got := tl.gaps.Load(); got != 2 {
		t.Errorf("gaps = %d, want 2 (sender 0's sends 2 and 3)", got)
	}
	if tl.otherEvents.Load() != 1 || tl.wsErrors.Load() != 0 || tl.badBodies.Load() != 0 {
		t.Errorf("other events %d, errors %d, bad bodies %d", tl.otherEvents.Load(), tl.wsErrors.Load(), tl.badBodies.Load())
	}
	if p50 := tl.e2e.quantile(0.5); tl.e2e.count() != 4 || p50 < 2*time.Millisecond || p50 > time.Second {
		t.Errorf("e2e: %d samples, p50 %v, want 4 of about 3ms", tl.e2e.count(), p50)
	}
}

// TestCentrifugoFirstSendMissing: every client subscribes before the first
// send, so a sender whose first publication seen is not its send 0 has
// lost some.
func TestCentrifugoFirstSendMissing(t *testing.T) {
	var tl tally
	c := newTestCfClient("room-0")
	c.handle(&tl, []byte(pubLine("room-0", 3, 2, 0)))
	if tl.delivered.Load() != 1 || tl.gaps.Load() != 2 {
		t.Errorf("delivered %d, gaps %d, want 1 and 2", tl.delivered.Load(), tl.gaps.Load())
	}
}

// TestCentrifugoOffsets: a channel with history numbers its publications;
// the offset counts, from the position the subscribe reply gave.
func TestCentrifugoOffsets(t *testing.T) {
	var tl tally
	c := newTestCfClient("room-0")
	c.everywhere = true
	ch := c.channels["room-0"]
	ch.offset, ch.offsetKnown = 5, true
	// The sender numbers say nothing here: offsets decide.
	c.handle(&tl, []byte(pubLine("room-0", 0, 0, 6)+"\n"+pubLine("room-0", 0, 0, 7)+"\n"+pubLine("room-0", 0, 0, 7)+"\n"+pubLine("room-0", 0, 0, 10)))
	for name, k := range map[string]*counts{"every client": &tl.counts, "members of every room": &tl.everywhere} {
		if k.delivered.Load() != 3 || k.duplicates.Load() != 1 || k.gaps.Load() != 2 {
			t.Errorf("%s: delivered %d, duplicates %d, gaps %d, want 3, 1, 2", name, k.delivered.Load(), k.duplicates.Load(), k.gaps.Load())
		}
	}
}

// TestCentrifugoErrors: what should not come is an error of its own kind;
// a publication whose body chatbench did not write is a bad body.
func TestCentrifugoErrors(t *testing.T) {
	var tl tally
	c := newTestCfClient("room-0")
	c.handle(&tl, []byte(strings.Join([]string{
		`{"id":7,"error":{"code":103,"message":"permission denied"}}`,
		`{"push":{"channel":"room-0","unsubscribe":{"code":2500,"reason":"server unsubscribe"}}}`,
		`{"push":{"disconnect":{"code":3008,"reason":"slow","reconnect":true}}}`,
		pubLine("room-9", 0, 0, 0),
		`{"push":{"channel":"room-0","pub":{"data":{"body":"hello"}}}}`,
		`{"push":`,
	}, "\n")))
	want := map[string]int64{
		"centrifugo error reply: 103 permission denied": 1,
		"unsubscribe push: 2500 server unsubscribe":     1,
		"disconnect push: 3008 slow":                    1,
		"publication in a channel not subscribed to":    1,
		"undecodable frame":                             1,
	}
	got := tl.errorKinds()
	for kind, n := range want {
		if got[kind] != n {
			t.Errorf("errors %q = %d, want %d (all: %v)", kind, got[kind], n, got)
		}
	}
	if tl.wsErrors.Load() != 5 || tl.badBodies.Load() != 1 || tl.delivered.Load() != 0 {
		t.Errorf("errors %d, bad bodies %d, delivered %d, want 5, 1, 0", tl.wsErrors.Load(), tl.badBodies.Load(), tl.delivered.Load())
	}
}

func TestBodySeq(t *testing.T) {
	b := body(64, time.Now(), "ab12", 3, 41)
	key, k, ok := bodySeq(b)
	if !ok || key != (senderKey{run: "ab12", sender: "s3"}) || k != 41 {
		t.Errorf("bodySeq(%q) = %v, %d, %v", b, key, k, ok)
	}
	for _, bad := range []string{"", "hello", "t1 r s1 x", "t1 r s1 nx"} {
		if _, _, ok := bodySeq(bad); ok {
			t.Errorf("bodySeq(%q) accepted", bad)
		}
	}
}
