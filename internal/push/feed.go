package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// controlQueue is how many requests of a client (resumes, pings) may wait
// for its connection's writer.
const controlQueue = 16

// errTooManyRequests closes a connection whose client sends requests faster
// than its writer answers them.
var errTooManyRequests error = &chat.Error{Kind: chat.ErrExhausted, Msg: "too many pending requests on this connection"}

// Sink writes one connection's frames in its transport's form. Only the
// feed's run loop calls it, so a sink needs no lock of its own.
type Sink interface {
	// Ready opens the connection for the client.
	Ready(ctx context.Context, r Ready) error
	// Event sends one event; the sink may gather events until Flush.
	Event(ctx context.Context, it *Item) error
	// Error answers a request of the client that failed, such as a resume
	// naming a room it may not read. A sink that cannot go on after it
	// returns an error, which ends the connection.
	Error(ctx context.Context, err error) error
	// Fail is the last frame of a connection the server ends with err (too
	// slow, session ended).
	Fail(ctx context.Context, err error) error
	// Reconnect is the last frame of a connection the server ends because
	// it is going away: the client comes back after delay, elsewhere.
	Reconnect(ctx context.Context, delay time.Duration, reason string) error
	// Flush sends what the sink gathered; the run loop calls it whenever
	// the queue runs empty.
	Flush() error
}

// Ready is what a new connection is told first.
type Ready struct {
	User      chat.User
	SessionID string
	// Rooms are those whose events the connection receives.
	Rooms []int64
	// Cursors say where live delivery starts per room: messages up to the
	// seq are history, later ones arrive as events.
	Cursors map[int64]int64
}

// Cursor is the last seq a client has of a room.
type Cursor struct{ Room, After int64 }

// Feed is one live connection's view of the hub: a bounded queue of events,
// and per room the last seq delivered, which turns duplicates into no-ops and
// gaps into reads from the store.
type Feed struct {
	*shared
	id        string
	principal auth.Principal
	hub       *Hub
	queue     *queue
	ctrl      chan func(context.Context, Sink) error
	dead      chan struct{}
	killOnce  sync.Once
	last      func(context.Context, Sink) error // the final frame, set by end
	// started is set, under the hub's lock, once the bus carries the
	// connection's topics and its cursors are about to be read: a
	// resubscription resyncs only started connections, the others read
	// their cursors after it.
	started bool

	// The rest is the run loop's.

	// ready is what the connection is told first, dropped once sent; resume
	// is what the client asked to replay with it.
	ready  *Ready
	resume []Cursor
	// receipts says whether the user shares read receipts, and so sees
	// others': it follows their SettingsChanged events.
	receipts bool
	// cursors: room → last seq delivered. A room added after the
	// connection opened gets one from its room_added event.
	cursors map[int64]int64
	// floors: room → the seq after which this connection sent every message
	// up to the cursor. A resume from below the floor replays only up to
	// it, so what went out live before the client's resume arrived is never
	// sent twice.
	floors map[int64]int64
	// budget bounds what resumes replay from the store (see resume.go).
	budget *rate.Limiter
	// held parks the live events of the rooms a resume is replaying, in
	// order, until their replay went out (nheld counts them); stale marks
	// held rooms to catch up from the store once let go.
	held  map[int64][]*Item
	nheld int
	stale map[int64]bool
	// resuming says a resume is read in the background; waiting are the
	// resumes asked for meanwhile, in order.
	resuming bool
	waiting  [][]Cursor
}

// NewConnID names a connection in presence and in the log.
func NewConnID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Open registers a connection, named id in presence and logs, for the
// principal. Run sends its Ready, then replays the rooms of resume (the
// client's cursors), before any of their live events; every other room is
// live at once. Close it when the connection ends.
func (h *Hub) Open(ctx context.Context, id string, p auth.Principal, resume []Cursor) (*Feed, error) {
	f := &Feed{
		shared: h.shared, id: id, principal: p, hub: h, resume: resume,
		queue: newQueue(h.opts.QueueSize), ctrl: make(chan func(context.Context, Sink) error, controlQueue),
		dead: make(chan struct{}),
	}
	if err := h.presence.Open(ctx, p.UserID, f.id); err != nil {
		return nil, err
	}
	// Routing starts before the rooms and cursors are read, so an event
	// committed meanwhile is either history below the cursor or in the queue.
	if !h.attach(f, nil) {
		f.Close()
		return nil, fmt.Errorf("%w: server is shutting down; reconnect", chat.ErrUnavailable)
	}
	if err := h.start(ctx, f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (h *Hub) start(ctx context.Context, f *Feed) error {
	uid := f.principal.UserID
	rooms, err := h.chat.RoomIDsOf(ctx, uid)
	if err != nil {
		return err
	}
	h.mu.Lock()
	for _, r := range rooms {
		h.addRoomLocked(r, f)
	}
	h.mu.Unlock()
	h.await(ctx, uid, rooms)
	h.mu.Lock()
	f.started = true
	h.mu.Unlock()
	f.cursors, err = h.history.LastSeqs(ctx, rooms)
	if err != nil {
		return err
	}
	f.floors = make(map[int64]int64, len(rooms))
	for _, r := range rooms {
		f.floors[r] = f.cursors[r]
	}
	user, err := h.chat.User(ctx, uid)
	if err != nil {
		return err
	}
	f.ready = &Ready{User: user, SessionID: f.principal.SessionID, Rooms: rooms, Cursors: maps.Clone(f.cursors)}
	f.receipts = user.Settings.ShareReadReceipts
	return nil
}

// await waits until the bus carries the user's and the rooms' events here,
// so that the cursors read next miss nothing: an event published before is
// in the store, one published after reaches the queue. Past awaitTopics it
// gives up; the bus resyncs the connection when it is back.
func (h *Hub) await(ctx context.Context, uid int64, rooms []int64) {
	topics := []chat.Topic{{User: uid}}
	for _, r := range rooms {
		topics = append(topics, chat.Topic{Room: r})
	}
	wctx, cancel := context.WithTimeout(ctx, awaitTopics)
	defer cancel()
	if err := h.topics.Await(wctx, topics); err != nil && ctx.Err() == nil {
		h.log.WarnContext(ctx, "the event bus does not carry a new connection's rooms yet; reading its cursors anyway", "user_id", uid, "err", err)
	}
}

// Close unregisters the connection; the user goes offline after the grace
// period unless another connection is live by then. A resume still read in
// the background stops.
func (f *Feed) Close() {
	f.end(func(context.Context, Sink) error { return nil })
	f.hub.close(f)
}

// push queues an event without ever blocking the hub: a connection that
// cannot keep up is dropped and resumes after reconnecting.
func (f *Feed) push(it *Item) {
	if !f.queue.put(it) {
		if f.Kill(chat.ErrTooSlow) {
			f.stats.SlowConsumers.Add(1)
		}
	}
}

// Control runs fn on the connection's writer, in order with what it sends:
// the transport's own frames (a pong) go out there. A client that has more
// than controlQueue requests waiting is dropped like a slow one.
func (f *Feed) Control(fn func(ctx context.Context) error) {
	f.control(func(ctx context.Context, _ Sink) error { return fn(ctx) })
}

func (f *Feed) control(fn func(context.Context, Sink) error) {
	select {
	case f.ctrl <- fn:
	default:
		f.Kill(errTooManyRequests)
	}
}

// Kill ends the feed with err, which its client is told (Sink.Fail) before
// the run loop returns. It reports whether this call was the one that ended
// it.
func (f *Feed) Kill(err error) bool {
	return f.end(func(ctx context.Context, s Sink) error { return s.Fail(ctx, err) })
}

// end ends the feed; its run loop calls last, then returns.
func (f *Feed) end(last func(context.Context, Sink) error) bool {
	killed := false
	f.killOnce.Do(func() {
		f.last = last
		close(f.dead)
		killed = true
	})
	return killed
}

// ErrEnded ends a run loop that the server ended, after the client was told
// why.
var ErrEnded = errors.New("connection closed by server")

// Run writes the feed to s until ctx ends or the feed is ended: its Ready,
// the replay of the rooms the client resumed with it, then live events and
// the client's requests. An end goes first, so a dropped client is not fed
// the rest of its queue; then control requests (a client's, and the
// replays of its resumes), so a resume asked for before an event holds that
// event back.
func (f *Feed) Run(ctx context.Context, s Sink) error {
	if err := f.open(ctx, s); err != nil {
		return err
	}
	if err := s.Flush(); err != nil {
		return err
	}
	for {
		if err := f.step(ctx, s); err != nil {
			return err
		}
		if f.queue.len() == 0 {
			if err := s.Flush(); err != nil {
				return err
			}
		}
	}
}

// step handles one thing: an end first, then a client's request such as a
// resume, then a queued event.
func (f *Feed) step(ctx context.Context, s Sink) error {
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
		// An end usually ends the reader too, which cancels ctx: the
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

// open sends the Ready and replays what the client resumed with it. A
// resume that fails is answered with Sink.Error; the stream's ends it.
func (f *Feed) open(ctx context.Context, s Sink) error {
	ready := f.ready
	f.ready = nil
	if err := s.Ready(ctx, *ready); err != nil {
		return err
	}
	if len(f.resume) == 0 {
		return nil
	}
	resume := f.resume
	f.resume = nil
	if err := f.resumeNow(ctx, s, resume); err != nil {
		return s.Error(ctx, err)
	}
	return nil
}

// final sends the frame the feed was ended with. A sink that turns it into
// an error (a Subscribe stream ends with that code) returns it, so the
// client learns why it was cut off.
func (f *Feed) final(ctx context.Context, s Sink) error {
	if err := f.last(ctx, s); err != nil {
		return err
	}
	return ErrEnded
}

// deliver sends one event, or each of a group.
func (f *Feed) deliver(ctx context.Context, s Sink, it *Item) error {
	if it.batch == nil {
		return f.deliverOne(ctx, s, it)
	}
	for _, p := range it.batch {
		if err := f.deliverOne(ctx, s, p); err != nil {
			return err
		}
	}
	return nil
}

// deliverOne sends one event, filling a gap before it from the store and
// dropping it if already delivered; an event of a room a resume holds waits.
func (f *Feed) deliverOne(ctx context.Context, s Sink, it *Item) error {
	roomID := it.ev.RoomID
	if _, held := f.held[roomID]; held {
		f.park(it)
		return nil
	}
	switch {
	case it.ev.Kind == chat.RoomAdded:
		return f.roomAdded(ctx, s, it)
	case it.ev.Kind == chat.ReadReceipt && !f.receipts:
		return nil // receipts are reciprocal
	case it.ev.Kind == chat.SettingsChanged:
		f.receipts = it.ev.Settings.ShareReadReceipts
	case it.ev.Kind == chat.RoomRemoved, it.ev.Kind == chat.MemberLeft && it.ev.UserID == f.principal.UserID:
		delete(f.cursors, roomID)
		delete(f.floors, roomID)
	}
	if !it.isLogged() {
		return s.Event(ctx, it)
	}
	seq := it.ev.Seq()
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
	if err := s.Event(ctx, it); err != nil {
		return err
	}
	if !known {
		f.floors[roomID] = seq - 1
	}
	f.cursors[roomID] = seq
	return nil
}

// roomAdded starts the room's cursor where the event says live delivery
// starts, tells the client, then reads what this process missed of the
// room before it routed it here.
func (f *Feed) roomAdded(ctx context.Context, s Sink, it *Item) error {
	room := it.ev.RoomID
	if _, known := f.cursors[room]; !known {
		f.cursors[room], f.floors[room] = it.ev.Room.LastSeq, it.ev.Room.LastSeq
	}
	if err := s.Event(ctx, it); err != nil {
		return err
	}
	return f.syncRooms(ctx, s, []int64{room})
}
