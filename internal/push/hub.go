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
	// drainSpread spreads reconnects of a draining process's clients.
	drainSpread = 3 * time.Second
	// drainReason is what a draining process tells its clients.
	drainReason = "server shutting down"
	// awaitTopics bounds how long a new connection waits for the bus to
	// carry its rooms' events before it reads its cursors anyway (Redis is
	// down: the bus's resubscription resyncs it later).
	awaitTopics = 2 * time.Second
)

// Chat is what the hub needs of the chat domain.
type Chat interface {
	User(ctx context.Context, id int64) (chat.User, error)
	RoomIDsOf(ctx context.Context, userID int64) ([]int64, error)
	CanRead(ctx context.Context, userID, roomID int64) error
}

// History reads what a connection missed.
type History interface {
	MessagesAfter(ctx context.Context, roomID, afterSeq int64, limit int) ([]chat.Message, error)
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

// Topics is told which rooms and users this process needs the events of:
// Watch at a room's or user's first connection here, Unwatch after its
// last. Await returns once the events of the topics reach the hub.
// bus.Bus fills it.
type Topics interface {
	Watch(t chat.Topic)
	Unwatch(t chat.Topic)
	Await(ctx context.Context, topics []chat.Topic) error
}

// noTopics is the Topics of a hub whose events come from nowhere else.
type noTopics struct{}

func (noTopics) Watch(chat.Topic)                          {}
func (noTopics) Unwatch(chat.Topic)                        {}
func (noTopics) Await(context.Context, []chat.Topic) error { return nil }

// Options limit each connection.
type Options struct {
	// QueueSize is how many events may wait for a connection before it is
	// dropped as too slow.
	QueueSize int
	// ResumeWindow is how many missed messages of one room a resume replays
	// before answering too_far_behind instead.
	ResumeWindow int
	// Topics hears which rooms and users the connections need; none when
	// nil.
	Topics Topics
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

// Hub routes events to this process's connections, by room.
type Hub struct {
	*shared
	presence Presence

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

// NewHub builds an empty hub.
func NewHub(c Chat, h History, p Presence, opts Options, log *slog.Logger) *Hub {
	if opts.Topics == nil {
		opts.Topics = noTopics{}
	}
	return &Hub{
		shared: &shared{chat: c, history: h, opts: opts, log: log}, presence: p,
		rooms: map[int64]map[*Feed]struct{}{}, users: map[int64]map[*Feed]struct{}{},
		sessions: map[string]map[*Feed]struct{}{}, order: map[int64]*roomOrder{},
	}
}

// Dispatch hands an event from the bus to the connections of its room.
func (h *Hub) Dispatch(e chat.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.Kind == chat.MemberJoined {
		h.routeLocked(e.Member.User.ID, e.RoomID, true)
	}
	it := newItem(e)
	if it.isMessage() {
		h.orderLocked(it)
	} else {
		h.fanoutLocked(it)
	}
	if e.Kind == chat.MemberLeft {
		h.routeLocked(e.UserID, e.RoomID, false)
	}
}

// routeLocked starts or stops sending a room's events to a user's feeds.
func (h *Hub) routeLocked(uid, roomID int64, on bool) {
	for f := range h.users[uid] {
		if on {
			h.routeRoomLocked(roomID, f)
		} else {
			h.unrouteRoomLocked(roomID, f)
		}
	}
}

// routeRoomLocked sends the room's events to f, and has the bus carry them
// here from the room's first connection on.
func (h *Hub) routeRoomLocked(roomID int64, f *Feed) {
	if addTo(h.rooms, roomID, f) {
		h.opts.Topics.Watch(chat.Topic{Room: roomID})
	}
}

// unrouteRoomLocked stops sending the room's events to f, and the bus
// carrying them after the room's last connection here.
func (h *Hub) unrouteRoomLocked(roomID int64, f *Feed) {
	if removeFrom(h.rooms, roomID, f) {
		h.opts.Topics.Unwatch(chat.Topic{Room: roomID})
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
		h.opts.Topics.Watch(chat.Topic{User: f.principal.UserID})
	}
	addTo(h.sessions, f.principal.SessionID, f)
	for _, r := range roomIDs {
		h.routeRoomLocked(r, f)
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
		h.opts.Topics.Unwatch(chat.Topic{User: f.principal.UserID})
	}
	removeFrom(h.sessions, f.principal.SessionID, f)
	for r := range h.rooms {
		h.unrouteRoomLocked(r, f)
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
// against the store, since the bus may have missed events of them.
func (h *Hub) Subscribed(topics []chat.Topic) {
	h.mu.Lock()
	defer h.mu.Unlock()
	told := map[*Feed]bool{}
	for _, t := range topics {
		fs := h.rooms[t.Room]
		if t.User != 0 {
			fs = h.users[t.User]
		}
		for f := range fs {
			if f.started && !told[f] {
				told[f] = true
				f.control(f.sync)
			}
		}
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

// addTo adds f to k's set and reports whether the set is new.
func addTo[K comparable](m map[K]map[*Feed]struct{}, k K, f *Feed) bool {
	set, ok := m[k]
	if !ok {
		set = map[*Feed]struct{}{}
		m[k] = set
	}
	set[f] = struct{}{}
	return !ok
}

// removeFrom removes f from k's set and reports whether that emptied it.
func removeFrom[K comparable](m map[K]map[*Feed]struct{}, k K, f *Feed) bool {
	set := m[k]
	if set == nil {
		return false
	}
	delete(set, f)
	if len(set) == 0 {
		delete(m, k)
		return true
	}
	return false
}
