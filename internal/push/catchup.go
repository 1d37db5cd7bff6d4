package push

import (
	"context"

	"github.com/parley-chat/parley/internal/chat"
)

// read is the room's log entries in (after, upTo] from the store, or a
// too_far_behind when there are more than the resume window; it reports
// whether they are the entries.
func (f *Feed) read(ctx context.Context, room, after, upTo int64) ([]*Item, bool, error) {
	if upTo-after > int64(f.opts.ResumeWindow) {
		return f.tooFarBehind(room, after, upTo), false, nil
	}
	entries, err := f.history.Entries(ctx, room, after, upTo)
	if err != nil {
		return nil, false, err
	}
	f.stats.ResumeReplays.Add(int64(len(entries)))
	items := make([]*Item, len(entries))
	for i, e := range entries {
		items[i] = newItem(e)
	}
	return items, true, nil
}

// tooFarBehind tells the client to fetch the room's (after, upTo] itself.
func (f *Feed) tooFarBehind(room, after, upTo int64) []*Item {
	f.stats.TooFarBehind.Add(1)
	return []*Item{newItem(chat.Event{Kind: chat.TooFarBehind, RoomID: room, AfterSeq: after, LastSeq: upTo})}
}

// catchUp sends the room's messages in (after, upTo] and moves the cursor
// to upTo; a replay cut short leaves nothing sent below upTo.
func (f *Feed) catchUp(ctx context.Context, s Sink, room, after, upTo int64) error {
	items, full, err := f.read(ctx, room, after, upTo)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := s.Event(ctx, it); err != nil {
			return err
		}
	}
	f.cursors[room] = upTo
	if !full {
		f.floors[room] = upTo
	}
	return nil
}

// sync catches up those of the rooms (every room of the connection when
// nil) whose store seq is ahead of the connection, after the bus may have
// dropped events. A room a resume holds is caught up when it is let go.
func (f *Feed) sync(ctx context.Context, s Sink, rooms []int64) error {
	if rooms == nil {
		for r := range f.cursors {
			rooms = append(rooms, r)
		}
	}
	ids := make([]int64, 0, len(rooms))
	for _, r := range rooms {
		if _, held := f.held[r]; held {
			if f.stale == nil {
				f.stale = map[int64]bool{}
			}
			f.stale[r] = true
			continue
		}
		ids = append(ids, r)
	}
	return f.syncRooms(ctx, s, ids)
}

// syncRooms catches up those of the rooms whose store seq is ahead.
func (f *Feed) syncRooms(ctx context.Context, s Sink, ids []int64) error {
	last, err := f.history.LastSeqs(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range ids {
		if cur, known := f.cursors[r]; known && last[r] > cur {
			if err := f.catchUp(ctx, s, r, cur, last[r]); err != nil {
				return err
			}
		}
	}
	return nil
}

// hold parks the room's live events from now on, until release.
func (f *Feed) hold(room int64) {
	if f.held == nil {
		// Made on the first resume, like the budget: an idle connection
		// carries neither.
		f.held = map[int64][]*Item{}
	}
	if _, held := f.held[room]; !held {
		f.held[room] = nil
	}
}

// park keeps a held room's event for later. Parked events count against
// the connection's queue size: a connection cannot hold more for its
// resumes than it could queue.
func (f *Feed) park(it *Item) {
	f.held[it.ev.RoomID] = append(f.held[it.ev.RoomID], it)
	f.nheld++
	if f.nheld > f.opts.QueueSize && f.Kill(chat.ErrTooSlow) {
		f.stats.SlowConsumers.Add(1)
	}
}

// release sends the room's parked events, in order, and lets its live
// events flow again.
func (f *Feed) release(ctx context.Context, s Sink, room int64) error {
	parked, held := f.held[room]
	if !held {
		return nil
	}
	delete(f.held, room)
	f.nheld -= len(parked)
	for _, it := range parked {
		if err := f.deliverOne(ctx, s, it); err != nil {
			return err
		}
	}
	if f.stale[room] {
		delete(f.stale, room)
		return f.syncRooms(ctx, s, []int64{room})
	}
	return nil
}

// releaseAll releases every held room.
func (f *Feed) releaseAll(ctx context.Context, s Sink) error {
	for room := range f.held {
		if err := f.release(ctx, s, room); err != nil {
			return err
		}
	}
	return nil
}
