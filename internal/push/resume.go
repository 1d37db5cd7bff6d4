package push

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/chat"
)

// What a connection's resumes may read from the store. A resume frame is a
// few bytes per room and its replay up to a window of messages per room, so
// without a budget one frame could make the server read and send a
// thousand windows.
const (
	// resumeBudgetWindows sizes a connection's replay budget: that many
	// rooms read in full, each a resume window of messages plus
	// resumeScanCost. Rooms beyond it get too_far_behind, and the client
	// refetches them with ListMessages, page by page.
	resumeBudgetWindows = 10
	// resumeRefill is how long a spent budget takes to fill up again, so
	// resume frames sent over and over replay little after the first.
	resumeRefill = time.Minute
	// resumeScanCost is what reading a room from the store costs from the
	// budget besides its messages: a resume of many rooms missing a
	// message each is bounded in queries too.
	resumeScanCost = 10
)

// roomResume is one room of a resume request.
type roomResume struct{ room, after int64 }

// dedupe lists each room once, in the order of its first cursor, with its
// lowest cursor: a client that names a room twice asked for everything
// after either, and answering only the higher one would silently skip
// messages it may lack.
func dedupe(cursors []Cursor) []roomResume {
	at := make(map[int64]int, len(cursors))
	out := make([]roomResume, 0, len(cursors))
	for _, c := range cursors {
		room, after := c.Room, c.After
		if i, seen := at[room]; seen {
			out[i].after = min(out[i].after, after)
			continue
		}
		at[room] = len(out)
		out = append(out, roomResume{room, after})
	}
	return out
}

// Resume asks for each room's messages after the client's cursor: the
// run loop replays them before the events queued after the request, then
// live delivery continues without gap or duplicate. A failed resume is
// answered with Sink.Error.
func (f *Feed) Resume(cursors []Cursor) {
	if len(cursors) == 0 {
		return
	}
	f.control(func(ctx context.Context, s Sink) error {
		if err := f.resume(ctx, s, cursors); err != nil {
			return s.Error(ctx, err)
		}
		return nil
	})
}

// resume replays each room from the client's cursor. A room the user may
// not read is refused with chat.ErrNotFound and nothing of it is sent.
// Every room either replays in full or gets too_far_behind: past the
// resume window, or past what is left of the connection's budget.
func (f *Feed) resume(ctx context.Context, s Sink, cursors []Cursor) error {
	rooms := dedupe(cursors)
	ids := make([]int64, len(rooms))
	for i, r := range rooms {
		ids[i] = r.room
	}
	// Rooms routed to the connection are the user's; only others cost a
	// membership query.
	routed := f.hub.routed(f, ids)
	for _, id := range ids {
		if !routed[id] {
			if err := f.chat.CanRead(ctx, f.principal.UserID, id); err != nil {
				return err
			}
		}
	}
	last, err := f.history.LastSeqs(ctx, ids)
	if err != nil {
		return err
	}
	cut := f.overBudget
	for _, r := range rooms {
		if err := f.resumeRoom(ctx, s, r.room, min(r.after, last[r.room]), last[r.room]); err != nil {
			return err
		}
	}
	if cut = f.overBudget - cut; cut > 0 {
		f.log.InfoContext(ctx, "resume over the connection's replay budget; rooms beyond it got too_far_behind",
			"conn_id", f.id, "user_id", f.principal.UserID, "rooms", len(rooms), "too_far_behind", cut)
	}
	return nil
}

// resumeRoom replays what the client lacks of one room after its cursor
// after, up to last, the room's newest seq.
func (f *Feed) resumeRoom(ctx context.Context, s Sink, room, after, last int64) error {
	cur, known := f.cursors[room]
	switch {
	case !known:
		// Nothing of the room went out on this connection.
		f.floors[room] = after
		full, err := f.replayResumed(ctx, s, room, after, last)
		if err != nil {
			return err
		}
		f.advance(room, last, full)
	case after >= cur:
		// The client has all this connection sent, and maybe more; what it
		// lacks is on its way live, or read from the store as a gap.
		f.cursors[room], f.floors[room] = after, after
	case after < f.floors[room]:
		// (floor, cur] already went out live: replay only what precedes it.
		full, err := f.replayResumed(ctx, s, room, after, f.floors[room])
		if err != nil {
			return err
		}
		if full {
			f.floors[room] = after
		}
	}
	return nil
}

// replayResumed is replay, paid for from the connection's budget: when
// what is left does not cover the room, it gets too_far_behind instead.
func (f *Feed) replayResumed(ctx context.Context, s Sink, roomID, after, upTo int64) (bool, error) {
	n := upTo - after
	if n == 0 {
		return true, nil
	}
	if n <= int64(f.opts.ResumeWindow) && !f.spend(int(n)+resumeScanCost) {
		f.overBudget++
		f.stats.ResumeOverBudget.Add(1)
		return false, f.tooFarBehind(ctx, s, roomID, after, upTo)
	}
	return f.replay(ctx, s, roomID, after, upTo)
}

// spend takes n from the connection's replay budget if it holds that much.
func (f *Feed) spend(n int) bool {
	if f.budget == nil {
		// Made on the first resume: most connections resume once, and an
		// idle one should not carry it.
		size := resumeBudgetWindows * (f.opts.ResumeWindow + resumeScanCost)
		f.budget = rate.NewLimiter(rate.Limit(float64(size)/resumeRefill.Seconds()), size)
	}
	return f.budget.AllowN(time.Now(), n)
}

// catchUp sends the room's messages in (after, upTo] and moves the cursor
// to upTo.
func (f *Feed) catchUp(ctx context.Context, s Sink, roomID, after, upTo int64) error {
	full, err := f.replay(ctx, s, roomID, after, upTo)
	if err != nil {
		return err
	}
	f.advance(roomID, upTo, full)
	return nil
}

// advance moves the room's cursor to upTo after a replay up to it; a
// replay cut short leaves nothing sent below upTo.
func (f *Feed) advance(roomID, upTo int64, full bool) {
	f.cursors[roomID] = upTo
	if !full {
		f.floors[roomID] = upTo
	}
}

// replay sends the room's messages in (after, upTo] from the store, or
// too_far_behind when there are more than the resume window; it reports
// whether it sent them all. It leaves the cursor alone.
func (f *Feed) replay(ctx context.Context, s Sink, roomID, after, upTo int64) (bool, error) {
	if upTo-after > int64(f.opts.ResumeWindow) {
		return false, f.tooFarBehind(ctx, s, roomID, after, upTo)
	}
	msgs, err := f.history.MessagesAfter(ctx, roomID, after, int(upTo-after))
	if err != nil {
		return false, err
	}
	f.stats.ResumeReplays.Add(int64(len(msgs)))
	for _, m := range msgs {
		if err := s.Event(ctx, newItem(chat.Event{Kind: chat.MessageCreated, RoomID: roomID, Message: &m})); err != nil {
			return false, err
		}
	}
	return true, nil
}

// tooFarBehind tells the client to fetch the room's (after, upTo] itself.
func (f *Feed) tooFarBehind(ctx context.Context, s Sink, roomID, after, upTo int64) error {
	f.stats.TooFarBehind.Add(1)
	return s.Event(ctx, newItem(chat.Event{Kind: chat.TooFarBehind, RoomID: roomID, AfterSeq: after, LastSeq: upTo}))
}

// sync catches up every room whose store seq is ahead of the connection,
// after the bus may have dropped events.
func (f *Feed) sync(ctx context.Context, s Sink) error {
	ids := make([]int64, 0, len(f.cursors))
	for r := range f.cursors {
		ids = append(ids, r)
	}
	last, err := f.history.LastSeqs(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range ids {
		if last[r] > f.cursors[r] {
			if err := f.catchUp(ctx, s, r, f.cursors[r], last[r]); err != nil {
				return err
			}
		}
	}
	return nil
}
