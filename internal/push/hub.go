package push

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Tuning of the hub.
const (
	// reorderWait is how long a room's message that arrived ahead of its
	// predecessor waits for it before going out anyway (connections then
	// fill the gap from the store).
	reorderWait = 50 * time.Millisecond
	// awaitTopics bounds how long a new connection waits for the bus to
	// carry its rooms' events before it reads its cursors anyway (Redis is
	// down: the bus's resubscription resyncs it later).
	awaitTopics = 2 * time.Second
	// drainSpread spreads reconnects of a draining process's clients.
	drainSpread = 3 * time.Second
	// drainReason is what a draining process tells its clients.
	drainReason = "server shutting down"
)

// Chat is what the hub needs of the chat domain.
type Chat interface {
	User(ctx context.Context, id int64) (chat.User, error)
	RoomIDsOf(ctx context.Context, userID int64) ([]int64, error)
	CanRead(ctx context.Context, userID, roomID int64) error
}

// History reads what a connection missed.
type History interface {
	// Entries are the room log's entries in (after, upTo], in seq order.
	Entries(ctx context.Context, roomID, after, upTo int64) ([]chat.Event, error)
	LastSeqs(ctx context.Context, roomIDs []int64) (map[int64]int64, error)
}

// Presence counts live connections across processes and tells the rooms
// who comes and goes; presence.Lifecycle fills it.
type Presence interface {
	// Open counts a new connection, or refuses it (chat.ErrTooManyConns).
	Open(ctx context.Context, userID int64, connID string) error
	// Close forgets a connection Open counted.
	Close(userID int64, connID string)
}

// Topics is what the hub needs of the bus: to hear a room's or a user's
// events while this process has a connection that needs them. The hub calls
// them with its lock held, on the first connection that needs a topic and
// after the last one left, so calls come in order; they must not block nor
// call back into the hub.
//
// Await returns once the bus carries the topics, so that every event
// published from then on reaches the hub (or with ctx's error).
type Topics interface {
	Watch(t chat.Topic)
	Unwatch(t chat.Topic)
	Await(ctx context.Context, topics []chat.Topic) error
}

// Options limit each connection.
type Options struct {
	// QueueSize is how many events may wait for a connection before it is
	// dropped as too slow.
	QueueSize int
	// ResumeWindow is how many missed messages of one room a resume replays
	// before answering too_far_behind instead.
	ResumeWindow int
}

// shared is what every feed of a hub uses: the stores, the limits, the
// counters and the log.
type shared struct {
	chat    Chat
	history History
	opts    Options
	log     *slog.Logger
	stats   Stats
}

// Hub routes events to this process's connections: a room's to those of
// its members, a user's to that user's, the directory's to all.
type Hub struct {
	*shared
	presence Presence
	topics   Topics

	mu       sync.Mutex
	rooms    map[int64]map[*Feed]struct{}
	users    map[int64]map[*Feed]struct{}
	sessions map[string]map[*Feed]struct{}
	order    map[int64]*roomOrder
	draining bool
}

// roomOrder puts a room's messages back in seq order when publishes from
// concurrent senders arrive swapped.
type roomOrder struct {
	last    int64
	pending map[int64]*Item
	timer   *time.Timer
}

// NewHub builds an empty hub, listening to the directory from the start:
// its events are for every connection.
func NewHub(c Chat, h History, p Presence, t Topics, opts Options, log *slog.Logger) *Hub {
	t.Watch(chat.DirectoryTopic)
	return &Hub{
		shared: &shared{chat: c, history: h, opts: opts, log: log}, presence: p, topics: t,
		rooms: map[int64]map[*Feed]struct{}{}, users: map[int64]map[*Feed]struct{}{},
		sessions: map[string]map[*Feed]struct{}{}, order: map[int64]*roomOrder{},
	}
}

// Dispatch hands an event from the bus to the connections it is for.
func (h *Hub) Dispatch(e chat.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	it := newItem(e)
	switch {
	case e.Topic() == chat.DirectoryTopic:
		h.toEveryoneLocked(it)
	case e.To != 0:
		h.toUserLocked(it)
	case it.isLogged():
		h.orderLocked(it)
	default:
		h.fanoutLocked(it)
	}
	if e.Kind == chat.MemberLeft {
		// RoomRemoved stops it too; whichever comes first, nothing of the
		// room follows.
		h.routeLocked(e.UserID, e.RoomID, false)
	}
}

// toUserLocked hands an event to every connection of its user. The room
// list's changes also start or stop routing the room to them: the user's
// topic is the one their process is sure to hear, where a room's events
// reach only processes that already carry the room.
func (h *Hub) toUserLocked(it *Item) {
	e := it.ev
	if e.Kind == chat.RoomAdded {
		h.routeLocked(e.To, e.RoomID, true)
	}
	fs := h.users[e.To]
	for f := range fs {
		f.push(it)
	}
	h.stats.EventsFannedOut.Add(int64(len(fs)))
	if e.Kind == chat.RoomRemoved {
		h.routeLocked(e.To, e.RoomID, false)
	}
}

// toEveryoneLocked hands an event to every connection. Such events are not
// in any log, so they need no order.
func (h *Hub) toEveryoneLocked(it *Item) {
	for _, fs := range h.users {
		for f := range fs {
			f.push(it)
		}
		h.stats.EventsFannedOut.Add(int64(len(fs)))
	}
}

// routeLocked starts or stops sending a room's events to a user's feeds.
func (h *Hub) routeLocked(uid, roomID int64, on bool) {
	for f := range h.users[uid] {
		if on {
			h.addRoomLocked(roomID, f)
		} else {
			h.removeRoomLocked(roomID, f)
		}
	}
}

// addRoomLocked routes a room to f, watching the room's topic for the
// first of this process's feeds.
func (h *Hub) addRoomLocked(roomID int64, f *Feed) {
	if addTo(h.rooms, roomID, f) {
		h.topics.Watch(chat.Topic{Room: roomID})
	}
}

// removeRoomLocked stops routing a room to f, and unwatches its topic after
// the last feed.
func (h *Hub) removeRoomLocked(roomID int64, f *Feed) {
	if removeFrom(h.rooms, roomID, f) {
		h.topics.Unwatch(chat.Topic{Room: roomID})
		// What the room's order knows goes stale now: the next message
		// heard, after a new first connection, does not follow the last.
		if o := h.order[roomID]; o != nil && o.timer != nil {
			o.timer.Stop()
		}
		delete(h.order, roomID)
	}
}

func (h *Hub) orderLocked(it *Item) {
	roomID, seq := it.ev.RoomID, it.ev.Seq()
	o := h.order[roomID]
	if o == nil {
		o = &roomOrder{pending: map[int64]*Item{}}
		h.order[roomID] = o
	}
	switch {
	case o.last == 0 || seq == o.last+1:
		h.fanoutLocked(it)
		o.last = seq
		for next := o.pending[o.last+1]; next != nil; next = o.pending[o.last+1] {
			delete(o.pending, o.last+1)
			h.fanoutLocked(next)
			o.last++
		}
	case seq <= o.last:
		return // published twice
	default:
		o.pending[seq] = it
		if o.timer == nil {
			o.timer = time.AfterFunc(reorderWait, func() { h.flushRoom(roomID) })
		}
		return
	}
	if len(o.pending) == 0 && o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
}

// flushRoom sends a room's held messages in seq order after reorderWait.
func (h *Hub) flushRoom(roomID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.order[roomID]
	if o == nil {
		return
	}
	seqs := make([]int64, 0, len(o.pending))
	for s := range o.pending {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		if s > o.last {
			h.fanoutLocked(o.pending[s])
			o.last = s
		}
		delete(o.pending, s)
	}
	o.timer = nil
}

func (h *Hub) fanoutLocked(it *Item) {
	fs := h.rooms[it.ev.RoomID]
	for f := range fs {
		f.push(it)
	}
	h.stats.EventsFannedOut.Add(int64(len(fs)))
}

// attach routes the rooms' events to the feed.
func (h *Hub) attach(f *Feed, roomIDs []int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return false
	}
	if addTo(h.users, f.principal.UserID, f) {
		h.topics.Watch(chat.Topic{User: f.principal.UserID})
	}
	addTo(h.sessions, f.principal.SessionID, f)
	for _, r := range roomIDs {
		h.addRoomLocked(r, f)
	}
	return true
}

// routed reports which of the rooms send their events to f: the user's
// rooms, as the membership events have told this process.
func (h *Hub) routed(f *Feed, roomIDs []int64) map[int64]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[int64]bool, len(roomIDs))
	for _, r := range roomIDs {
		_, out[r] = h.rooms[r][f]
	}
	return out
}

// close unroutes the feed and tells presence it is gone.
func (h *Hub) close(f *Feed) {
	h.detach(f)
	h.presence.Close(f.principal.UserID, f.id)
}

func (h *Hub) detach(f *Feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if removeFrom(h.users, f.principal.UserID, f) {
		h.topics.Unwatch(chat.Topic{User: f.principal.UserID})
	}
	removeFrom(h.sessions, f.principal.SessionID, f)
	for r := range h.rooms {
		h.removeRoomLocked(r, f)
	}
}

// errSessionEnded closes a session's connections after a logout, a password
// change or a replayed refresh token.
var errSessionEnded error = &chat.Error{Kind: chat.ErrUnauthenticated, Msg: "the session ended; log in again"}

// EndSession closes the session's connections on this process.
func (h *Hub) EndSession(sessionID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for f := range h.sessions[sessionID] {
		f.Kill(errSessionEnded)
	}
}

// Subscribed makes the connections of the topics re-check their rooms
// against the store, after the bus may have missed events of them: a room's
// connections that room, a user's every room. Each connection gets one
// request, however many of its topics came back. A connection that has not
// started is left alone: it reads its cursors after the bus carries its
// topics (see await).
func (h *Hub) Subscribed(topics []chat.Topic) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rooms := map[*Feed][]int64{}
	for _, t := range topics {
		for f := range h.users[t.User] {
			if f.started {
				rooms[f] = nil // all of them
			}
		}
		for f := range h.rooms[t.Room] {
			if ids, some := rooms[f]; f.started && (ids != nil || !some) {
				rooms[f] = append(ids, t.Room)
			}
		}
	}
	for f, ids := range rooms {
		f.control(func(ctx context.Context, s Sink) error { return f.sync(ctx, s, ids) })
	}
}

// Lost has nothing to do: every connection keeps its cursors, and
// Subscribed resyncs them once the bus is back.
func (h *Hub) Lost() {}

// Drain tells every connection to reconnect elsewhere, spread over
// drainSpread so the other processes are not hit at once, and refuses new
// ones.
func (h *Hub) Drain() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.draining = true
	for _, fs := range h.users {
		for f := range fs {
			delay := rand.N(drainSpread)
			f.end(func(ctx context.Context, s Sink) error { return s.Reconnect(ctx, delay, drainReason) })
		}
	}
}

// Conns counts this process's live connections.
func (h *Hub) Conns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, fs := range h.users {
		n += len(fs)
	}
	return n
}

// addTo adds f to k's set and reports whether it is the set's first.
func addTo[K comparable](m map[K]map[*Feed]struct{}, k K, f *Feed) bool {
	set := m[k]
	if set == nil {
		set = map[*Feed]struct{}{}
		m[k] = set
	}
	n := len(set)
	set[f] = struct{}{}
	return n == 0 && len(set) == 1
}

// removeFrom takes f out of k's set and reports whether it was the last.
func removeFrom[K comparable](m map[K]map[*Feed]struct{}, k K, f *Feed) bool {
	set := m[k]
	if _, in := set[f]; !in {
		return false
	}
	delete(set, f)
	if len(set) == 0 {
		delete(m, k)
		return true
	}
	return false
}
