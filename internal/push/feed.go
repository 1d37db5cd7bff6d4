package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/time/rate"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
)

const controlQueue = 16

// sink writes frames to one connection; only the feed's run loop calls it.
type sink interface {
	frame(ctx context.Context, f *chatv1.ServerFrame) error
	event(ctx context.Context, it *item) error
	// flush sends events the sink may have gathered; the run loop calls it
	// whenever the queue runs empty.
	flush() error
}

// feed is one live connection's view of the hub: a bounded queue of events,
// and per room the last seq delivered, which turns duplicates into no-ops and
// gaps into reads from the store.
type feed struct {
	id        string
	principal auth.Principal
	hub       *Hub
	queue     *queue
	ctrl      chan func(context.Context, sink) error
	dead      chan struct{}
	killOnce  sync.Once
	last      *chatv1.ServerFrame // the final frame, set by kill
	// crowded closes when the queue is half full: a connection still holding
	// live delivery (waiting for the client's resume) must start draining
	// rather than be dropped as slow while it waits.
	crowded     chan struct{}
	crowdedOnce sync.Once

	// cursors is owned by the run loop: room → last seq delivered. A room
	// joined after the connection opened has none until its first message.
	cursors map[int64]int64
	// floors is owned by the run loop too: room → the seq after which this
	// connection sent every message up to the cursor. A resume from below
	// the floor replays only up to it, so what went out live before the
	// client's resume arrived is never sent twice.
	floors map[int64]int64
	// budget bounds what resumes replay from the store (see resume.go);
	// overBudget counts the rooms it refused. Both are the run loop's.
	budget     *rate.Limiter
	overBudget int
}

// open registers a connection, named id in presence and logs, for the
// principal and returns its Ready.
func (h *Hub) open(ctx context.Context, id string, p auth.Principal) (*feed, *chatv1.Ready, error) {
	f := &feed{
		id: id, principal: p, hub: h,
		queue: newQueue(h.opts.QueueSize), ctrl: make(chan func(context.Context, sink) error, controlQueue),
		dead: make(chan struct{}), crowded: make(chan struct{}),
	}
	if err := h.presence.Open(ctx, p.UserID, f.id); err != nil {
		return nil, nil, err
	}
	// Routing starts before the rooms and cursors are read, so an event
	// committed meanwhile is either history below the cursor or in the queue.
	if !h.attach(f, nil) {
		h.close(f)
		return nil, nil, fmt.Errorf("%w: server is shutting down; reconnect", chat.ErrUnavailable)
	}
	ready, err := h.start(ctx, f)
	if err != nil {
		h.close(f)
		return nil, nil, err
	}
	return f, ready, nil
}

func (h *Hub) start(ctx context.Context, f *feed) (*chatv1.Ready, error) {
	uid := f.principal.UserID
	rooms, err := h.chat.RoomIDsOf(ctx, uid)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	for _, r := range rooms {
		addTo(h.rooms, r, f)
	}
	h.mu.Unlock()
	f.cursors, err = h.history.LastSeqs(ctx, rooms)
	if err != nil {
		return nil, err
	}
	f.floors = make(map[int64]int64, len(rooms))
	for _, r := range rooms {
		f.floors[r] = f.cursors[r]
	}
	user, err := h.chat.User(ctx, uid)
	if err != nil {
		return nil, err
	}
	ready := &chatv1.Ready{User: protoconv.User(user, true), RoomIds: rooms, SessionId: f.principal.SessionID}
	for _, r := range rooms {
		ready.Cursors = append(ready.Cursors, &chatv1.RoomCursor{RoomId: r, AfterSeq: f.cursors[r]})
	}
	return ready, nil
}

// close unregisters the connection; the user goes offline after the grace
// period unless another connection is live by then.
func (h *Hub) close(f *feed) {
	h.detach(f)
	h.presence.Close(f.principal.UserID, f.id)
}

func newConnID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// push queues an event without ever blocking the hub: a connection that
// cannot keep up is dropped and resumes after reconnecting.
func (f *feed) push(it *item) {
	ok, crowded := f.queue.put(it)
	if crowded {
		f.crowdedOnce.Do(func() { close(f.crowded) })
	}
	if !ok {
		if f.kill(errorFrame("resource_exhausted", "connection too slow: events were not read fast enough; reconnect and resume")) {
			f.hub.stats.SlowConsumers.Add(1)
		}
	}
}

// control runs fn on the feed's run loop; a full control queue drops the
// connection like a full event queue does.
func (f *feed) control(fn func(context.Context, sink) error) {
	select {
	case f.ctrl <- fn:
	default:
		f.kill(errorFrame("resource_exhausted", "too many pending requests on this connection"))
	}
}

// kill ends the feed; its run loop sends last, then returns. It reports
// whether this call was the one that ended it.
func (f *feed) kill(last *chatv1.ServerFrame) bool {
	killed := false
	f.killOnce.Do(func() {
		f.last = last
		close(f.dead)
		killed = true
	})
	return killed
}

// errFeedKilled ends a run loop that was killed.
var errFeedKilled = errors.New("connection closed by server")

// run writes the feed's events and control frames to s until ctx ends or
// the feed is killed. A kill goes first, so a dropped client is not fed
// the rest of its queue; then control requests, so a resume queued before
// live events is replayed before them.
func (f *feed) run(ctx context.Context, s sink) error {
	for {
		if err := f.step(ctx, s); err != nil {
			return err
		}
		if f.queue.len() == 0 {
			if err := s.flush(); err != nil {
				return err
			}
		}
	}
}

// step handles one thing: a kill first, then a client's request such as a
// resume, then a queued event.
func (f *feed) step(ctx context.Context, s sink) error {
	select {
	case <-f.dead:
		return f.final(ctx, s)
	default:
	}
	select {
	case fn := <-f.ctrl:
		return fn(ctx, s)
	default:
	}
	if it := f.queue.take(); it != nil {
		return f.deliver(ctx, s, it)
	}
	select {
	case <-ctx.Done():
		// A kill usually ends the reader too, which cancels ctx: the
		// client must still get the reason.
		select {
		case <-f.dead:
			return f.final(ctx, s)
		default:
		}
		return ctx.Err()
	case <-f.dead:
		return f.final(ctx, s)
	case <-f.queue.ready:
		return nil // the next step takes what arrived
	case fn := <-f.ctrl:
		return fn(ctx, s)
	}
}

// final sends the frame the feed was killed with. A sink that turns it into
// an error (a Subscribe stream ends with that code) returns it, so the
// client learns why it was cut off.
func (f *feed) final(ctx context.Context, s sink) error {
	if f.last != nil {
		if err := s.frame(ctx, f.last); err != nil {
			return err
		}
	}
	return errFeedKilled
}

// deliver sends one event, filling a gap before it from the store and
// dropping it if already delivered.
func (f *feed) deliver(ctx context.Context, s sink, it *item) error {
	for _, p := range it.batch {
		if err := s.event(ctx, p); err != nil {
			return err
		}
	}
	if it.batch != nil {
		return nil
	}
	roomID := it.ev.GetRoomId()
	if ml := it.ev.GetMemberLeft(); ml != nil && ml.GetUserId() == f.principal.UserID {
		delete(f.cursors, roomID)
		delete(f.floors, roomID)
	}
	if !it.isMessage() {
		return s.event(ctx, it)
	}
	seq := it.ev.GetSeq()
	cur, known := f.cursors[roomID]
	if known {
		if seq <= cur {
			return nil
		}
		if seq > cur+1 {
			if err := f.catchUp(ctx, s, roomID, cur, seq-1); err != nil {
				return err
			}
			if f.cursors[roomID] >= seq {
				return nil
			}
		}
	}
	if err := s.event(ctx, it); err != nil {
		return err
	}
	if !known {
		f.floors[roomID] = seq - 1
	}
	f.cursors[roomID] = seq
	return nil
}

func errorFrame(code, msg string) *chatv1.ServerFrame {
	// A message may quote the client's input, and a frame that is not
	// UTF-8 could not be sent at all.
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	return &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Error{Error: &chatv1.Error{Code: code, Message: msg}}}
}
