package push

import (
	"context"
	"time"

	"golang.org/x/time/rate"
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

// mark is where a room stands on a connection as a resume of it starts:
// the last seq sent (cursor) and the floor, once anything of it went out.
type mark struct {
	cursor, floor int64
	known         bool
}

func (f *Feed) mark(room int64) mark {
	cur, known := f.cursors[room]
	return mark{cursor: cur, floor: f.floors[room], known: known}
}

// roomReplay is one room's part of a resume: what to send, and where the
// room stands on the connection after it.
type roomReplay struct {
	room          int64
	items         []*Item
	cursor, floor int64
}

// resumeStep is what a resume read in the background hands the run loop:
// one room's replay, or, with replay nil, its end.
type resumeStep struct {
	replay *roomReplay
	err    error
}

// Resume asks for each room's messages after the client's cursor. The
// rooms' live events wait while their replay is read from the store, and
// follow it without gap or duplicate; every other room's keep flowing. A
// resume that fails is answered with Sink.Error.
func (f *Feed) Resume(cursors []Cursor) {
	if len(cursors) == 0 {
		return
	}
	f.control(func(ctx context.Context, _ Sink) error {
		f.startResume(ctx, cursors)
		return nil
	})
}

// startResume holds the rooms' live events and reads their replay in the
// background; a resume asked for while one is read waits its turn. The
// run loop owns the rooms' cursors while they are held, so the reader
// works from their marks.
func (f *Feed) startResume(ctx context.Context, cursors []Cursor) {
	if f.resuming {
		f.waiting = append(f.waiting, cursors)
		return
	}
	f.resuming = true
	rooms := dedupe(cursors)
	marks := make(map[int64]mark, len(rooms))
	for _, r := range rooms {
		marks[r.room] = f.mark(r.room)
		f.hold(r.room)
	}
	go func() {
		handOver := func(st resumeStep) error {
			select {
			case f.replays <- st:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-f.dead:
				return ErrEnded
			}
		}
		err := f.readResume(ctx, rooms, marks, func(r roomReplay) error { return handOver(resumeStep{replay: &r}) })
		_ = handOver(resumeStep{err: err})
	}()
}

// resumed applies what a background resume handed over: a room's replay,
// or its end, which lets the rooms it did not replay (it failed) flow
// again and starts the next resume.
func (f *Feed) resumed(ctx context.Context, s Sink, st resumeStep) error {
	if st.replay != nil {
		return f.applyReplay(ctx, s, *st.replay)
	}
	f.resuming = false
	if err := f.releaseAll(ctx, s); err != nil {
		return err
	}
	if st.err != nil {
		if err := s.Error(ctx, st.err); err != nil {
			return err
		}
	}
	if len(f.waiting) > 0 {
		next := f.waiting[0]
		f.waiting = f.waiting[1:]
		f.startResume(ctx, next)
	}
	return nil
}

// resumeNow replays the rooms the client named when it connected, before
// any live event: it asked for them together with the connection.
func (f *Feed) resumeNow(ctx context.Context, s Sink, cursors []Cursor) error {
	rooms := dedupe(cursors)
	marks := make(map[int64]mark, len(rooms))
	for _, r := range rooms {
		marks[r.room] = f.mark(r.room)
	}
	return f.readResume(ctx, rooms, marks, func(r roomReplay) error { return f.applyReplay(ctx, s, r) })
}

// applyReplay sends a room's replay, moves its cursor and lets its held
// live events follow.
func (f *Feed) applyReplay(ctx context.Context, s Sink, r roomReplay) error {
	for _, it := range r.items {
		if err := s.Event(ctx, it); err != nil {
			return err
		}
	}
	f.cursors[r.room], f.floors[r.room] = r.cursor, r.floor
	return f.release(ctx, s, r.room)
}

// readResume reads each room's replay from the client's cursor and hands
// it to emit, room by room. A room the user may not read is refused with
// chat.ErrNotFound before anything is read. Every room either replays in
// full or gets too_far_behind: past the resume window, or past what is left
// of the connection's budget.
func (f *Feed) readResume(ctx context.Context, rooms []roomResume, marks map[int64]mark, emit func(roomReplay) error) error {
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
	cut := 0
	for _, r := range rooms {
		rp, err := f.planRoom(ctx, r.room, min(r.after, last[r.room]), last[r.room], marks[r.room], &cut)
		if err != nil {
			return err
		}
		if err := emit(rp); err != nil {
			return err
		}
	}
	if cut > 0 {
		f.log.InfoContext(ctx, "resume over the connection's replay budget; rooms beyond it got too_far_behind",
			"conn_id", f.id, "user_id", f.principal.UserID, "rooms", len(rooms), "too_far_behind", cut)
	}
	return nil
}

// planRoom reads what the client lacks of one room after its cursor after,
// up to last, the room's newest seq, given what the connection already sent
// of it (m); cut counts the rooms the budget refused.
func (f *Feed) planRoom(ctx context.Context, room, after, last int64, m mark, cut *int) (roomReplay, error) {
	rp := roomReplay{room: room, cursor: m.cursor, floor: m.floor}
	var err error
	switch {
	case !m.known:
		// Nothing of the room went out on this connection.
		var full bool
		rp.items, full, err = f.readPaid(ctx, room, after, last, cut)
		rp.cursor, rp.floor = last, after
		if !full {
			rp.floor = last
		}
	case after >= m.cursor:
		// The client has all this connection sent, and maybe more; what it
		// lacks is on its way live, or read from the store as a gap.
		rp.cursor, rp.floor = after, after
	case after < m.floor:
		// (floor, cursor] already went out live: replay only what precedes it.
		var full bool
		rp.items, full, err = f.readPaid(ctx, room, after, m.floor, cut)
		if full {
			rp.floor = after
		}
	}
	return rp, err
}

// readPaid is read, paid for from the connection's budget: when what is
// left does not cover the room, it gets too_far_behind instead.
func (f *Feed) readPaid(ctx context.Context, room, after, upTo int64, cut *int) ([]*Item, bool, error) {
	n := upTo - after
	if n == 0 {
		return nil, true, nil
	}
	if n <= int64(f.opts.ResumeWindow) && !f.spend(int(n)+resumeScanCost) {
		*cut++
		f.stats.ResumeOverBudget.Add(1)
		return f.tooFarBehind(room, after, upTo), false, nil
	}
	return f.read(ctx, room, after, upTo)
}

// spend takes n from the connection's replay budget if it holds that much.
// Resumes run one at a time, so the budget has one user at a time.
func (f *Feed) spend(n int) bool {
	if f.budget == nil {
		// Made on the first resume: most connections resume once, and an
		// idle one should not carry it.
		size := resumeBudgetWindows * (f.opts.ResumeWindow + resumeScanCost)
		f.budget = rate.NewLimiter(rate.Limit(float64(size)/resumeRefill.Seconds()), size)
	}
	return f.budget.AllowN(time.Now(), n)
}
