package push_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// The resume bounds under test, with PARLEY_RESUME_WINDOW=boundWindow: a
// connection's replay budget is ten windows of messages (each room read
// also costs a little of it), refilled over a minute.
const (
	boundWindow    = 10
	budgetMessages = 10 * boundWindow
	boundRooms     = 25 // rooms of boundWindow messages each: far past the budget
	resumeWithin   = 10 * time.Second
)

// replayed is what a resume sent, per room: the seqs of its messages and
// the too_far_behind it got, if any.
type replayed struct {
	seqs map[int64][]int64
	far  map[int64]*chatv1.TooFarBehind
}

func (r replayed) messages() int {
	n := 0
	for _, s := range r.seqs {
		n += len(s)
	}
	return n
}

// collectUntil reads l's frames until marker's message arrives in room
// markerRoom: live delivery follows the replay, so everything before it
// is what the resume sent.
func (l *live) collectUntil(tb testing.TB, markerRoom, markerSeq int64) replayed {
	tb.Helper()
	r := replayed{seqs: map[int64][]int64{}, far: map[int64]*chatv1.TooFarBehind{}}
	deadline := time.Now().Add(resumeWithin)
	for {
		f := l.next(tb, time.Until(deadline))
		if f == nil {
			tb.Fatalf("%s: connection ended (%v) during the resume", l.name, l.err)
		}
		if f.GetError() != nil {
			tb.Fatalf("%s: error frame %v", l.name, f.GetError())
		}
		ev := f.GetEvent()
		switch {
		case ev.GetRoomId() == markerRoom && ev.GetSeq() == markerSeq:
			return r
		case ev.GetMessageCreated() != nil:
			r.seqs[ev.GetRoomId()] = append(r.seqs[ev.GetRoomId()], ev.GetSeq())
		case ev.GetTooFarBehind() != nil:
			if r.far[ev.GetRoomId()] != nil {
				tb.Fatalf("%s: two too_far_behind for room %d", l.name, ev.GetRoomId())
			}
			r.far[ev.GetRoomId()] = ev.GetTooFarBehind()
		}
	}
}

// resumeOver opens a connection for c over ws or a Subscribe stream that
// resumes the given cursors, in the auth frame or the request.
func resumeOver(tb testing.TB, srv *testenv.Server, c *testenv.Client, over string, cursors []*chatv1.RoomCursor) *live {
	tb.Helper()
	if over == "ws" {
		l, _ := openWSResuming(tb, srv, c, cursors...)
		return l
	}
	l, _ := subscribe(tb, srv, c, testenv.Protocols[0], cursors...)
	return l
}

// TestResumeBounded: a resume that names one room 500 times replays it
// once, from its lowest cursor; one that asks for far more than the budget
// replays each room in full or answers it with too_far_behind, and what it
// replays stays within the budget; resume frames sent over and over share
// one budget. Over a socket and a Subscribe stream.
func TestResumeBounded(t *testing.T) {
	srv := startServer(t, map[string]string{"PARLEY_RESUME_WINDOW": strconv.Itoa(boundWindow)})
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	// The marker room's message, sent once the connection is open, comes
	// after the resume's replay.
	marker := createRoom(t, alice, "marker", chatv1.Visibility_VISIBILITY_PUBLIC)
	bob.Join(t, marker)
	rooms := make([]int64, boundRooms)
	var wg sync.WaitGroup
	for i := range rooms {
		rooms[i] = createRoom(t, alice, fmt.Sprintf("busy_%d", i), chatv1.Visibility_VISIBILITY_PUBLIC)
		bob.Join(t, rooms[i])
		wg.Go(func() {
			if err := sendAll(alice, rooms[i], boundWindow, 1, fmt.Sprintf("fill-%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	base := lastSeq(t, bob, testenv.General)
	if err := sendAll(alice, testenv.General, boundWindow, 2, "general"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	last := lastSeq(t, bob, testenv.General)

	// markerAfter sends the marker and returns its seq.
	markerAfter := func() int64 { return alice.Send(t, marker, "marker", testenv.Name("marker-")).GetSeq() }
	for _, over := range []string{"ws", "connect"} {
		t.Run(over+"/Duplicates", func(t *testing.T) {
			// The same room 500 times, its cursor alternating between
			// nothing seen and everything seen.
			var cursors []*chatv1.RoomCursor
			for i := range 500 {
				cursors = append(cursors, &chatv1.RoomCursor{RoomId: testenv.General, AfterSeq: []int64{base, last}[i%2]})
			}
			start := time.Now()
			l := resumeOver(t, srv, bob, over, cursors)
			got := l.collectUntil(t, marker, markerAfter())
			t.Logf("resume of one room named 500 times: %d messages in %s", got.messages(), time.Since(start).Round(time.Millisecond))
			if got.far[testenv.General] != nil {
				t.Fatalf("too_far_behind %v for a room within the window", got.far[testenv.General])
			}
			wantSeqs(t, got.seqs[testenv.General], base+1, last)
		})
		t.Run(over+"/ManyRooms", func(t *testing.T) {
			var cursors []*chatv1.RoomCursor
			for _, r := range rooms {
				cursors = append(cursors, &chatv1.RoomCursor{RoomId: r, AfterSeq: 0})
			}
			start := time.Now()
			l := resumeOver(t, srv, bob, over, cursors)
			got := l.collectUntil(t, marker, markerAfter())
			t.Logf("resume of %d rooms of %d messages: %d replayed, %d too_far_behind, in %s",
				len(rooms), boundWindow, got.messages(), len(got.far), time.Since(start).Round(time.Millisecond))
			if n := got.messages(); n > budgetMessages {
				t.Errorf("replayed %d messages, want at most the budget of %d", n, budgetMessages)
			}
			for _, r := range rooms {
				// Every room replays in full or is answered: nothing the
				// client lacks is skipped in silence.
				if far := got.far[r]; far != nil {
					if len(got.seqs[r]) > 0 || far.GetAfterSeq() != 0 || far.GetLastSeq() != boundWindow {
						t.Errorf("room %d: %d messages and %v, want too_far_behind{after 0, last %d} alone", r, len(got.seqs[r]), far, boundWindow)
					}
					continue
				}
				wantSeqs(t, got.seqs[r], 1, boundWindow)
			}
			if len(got.far) == 0 {
				t.Error("no room got too_far_behind")
			}
		})
	}
	t.Run("ws/Repeated", func(t *testing.T) {
		l, _ := openWS(t, srv, bob)
		total := 0
		for n := range 30 {
			// Forgetting and remembering General, frame after frame.
			l.send(t, resumeFrame(testenv.General, []int64{base, last}[n%2]))
			got := l.collectUntil(t, marker, markerAfter())
			total += got.messages()
		}
		t.Logf("30 resume frames on one socket replayed %d messages", total)
		// The budget refills over a minute: one more room may fit while
		// the test runs, not the 15 that were asked for.
		if total > budgetMessages+boundWindow {
			t.Errorf("replayed %d messages over 30 frames, want at most the budget of %d (and a room refilled)", total, budgetMessages)
		}
	})
}
