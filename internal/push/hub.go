package push

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/presence"
)

// Tuning of the hub.
const (
	// reorderWait is how long a room's message that arrived ahead of its
	// predecessor waits for it before going out anyway (connections then
	// fill the gap from the store).
	reorderWait = 50 * time.Millisecond
	// presenceGrace debounces offline: a user who reconnects within it
	// causes no presence events at all.
	presenceGrace = 2 * time.Second
	// drainSpread spreads reconnects of a draining process's clients.
	drainSpread = 3 * time.Second
)

// Chat is what the hub needs of the chat domain.
type Chat interface {
	User(ctx context.Context, id int64) (chat.User, error)
	RoomIDsOf(ctx context.Context, userID int64) ([]int64, error)
	CanRead(ctx context.Context, userID, roomID int64) error
	Typing(ctx context.Context, userID, roomID int64) error
	PresenceChanged(ctx context.Context, userID int64, online bool) error
}

// History reads what a connection missed.
type History interface {
	MessagesAfter(ctx context.Context, roomID, afterSeq int64, limit int) ([]chat.Message, error)
	LastSeqs(ctx context.Context, roomIDs []int64) (map[int64]int64, error)
}

// Presence counts live connections across processes.
type Presence interface {
	TryAdd(ctx context.Context, uid int64, connID string, limit int) (bool, error)
	Remove(ctx context.Context, uid int64, connID string) error
	Heartbeat(ctx context.Context, conns []presence.Conn) error
	Settle(ctx context.Context, uid int64) (changed, online bool, err error)
	Sweep(ctx context.Context) ([]int64, error)
}

// Options limit each connection.
type Options struct {
	// QueueSize is how many events may wait for a connection before it is
	// dropped as too slow.
	QueueSize int
	// ResumeWindow is how many missed messages of one room a resume replays
	// before answering too_far_behind instead.
	ResumeWindow int
	// MaxConnsPerUser caps a user's live connections across processes.
	MaxConnsPerUser int
}

// Hub routes events to this process's connections, by room.
type Hub struct {
	chat     Chat
	history  History
	presence Presence
	opts     Options
	log      *slog.Logger

	mu       sync.Mutex
	rooms    map[int64]map[*feed]struct{}
	users    map[int64]map[*feed]struct{}
	sessions map[string]map[*feed]struct{}
	order    map[int64]*roomOrder
	draining bool
	stats    Stats
}

// roomOrder puts a room's messages back in seq order when publishes from
// concurrent senders arrive swapped.
type roomOrder struct {
	last    int64
	pending map[int64]*item
	timer   *time.Timer
}

// NewHub builds an empty hub.
func NewHub(c Chat, h History, p Presence, opts Options, log *slog.Logger) *Hub {
	return &Hub{
		chat: c, history: h, presence: p, opts: opts, log: log,
		rooms: map[int64]map[*feed]struct{}{}, users: map[int64]map[*feed]struct{}{},
		sessions: map[string]map[*feed]struct{}{}, order: map[int64]*roomOrder{},
	}
}

// Dispatch hands an event from the bus to the connections of its room.
func (h *Hub) Dispatch(ev *chatv1.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if mj := ev.GetMemberJoined(); mj != nil {
		h.routeLocked(mj.GetMember().GetUser().GetId(), ev.GetRoomId(), true)
	}
	it := newItem(ev)
	if it.isMessage() {
		h.orderLocked(it)
	} else {
		h.fanoutLocked(it)
	}
	if ml := ev.GetMemberLeft(); ml != nil {
		h.routeLocked(ml.GetUserId(), ev.GetRoomId(), false)
	}
}

// routeLocked starts or stops sending a room's events to a user's feeds.
func (h *Hub) routeLocked(uid, roomID int64, on bool) {
	for f := range h.users[uid] {
		if on {
			addTo(h.rooms, roomID, f)
		} else {
			removeFrom(h.rooms, roomID, f)
		}
	}
}

func (h *Hub) orderLocked(it *item) {
	roomID, seq := it.ev.GetRoomId(), it.ev.GetSeq()
	o := h.order[roomID]
	if o == nil {
		o = &roomOrder{pending: map[int64]*item{}}
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

func (h *Hub) fanoutLocked(it *item) {
	fs := h.rooms[it.ev.GetRoomId()]
	for f := range fs {
		f.push(it)
	}
	h.stats.EventsFannedOut.Add(int64(len(fs)))
}

// attach routes the rooms' events to the feed.
func (h *Hub) attach(f *feed, roomIDs []int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return false
	}
	addTo(h.users, f.principal.UserID, f)
	addTo(h.sessions, f.principal.SessionID, f)
	for _, r := range roomIDs {
		addTo(h.rooms, r, f)
	}
	return true
}

// routed reports which of the rooms send their events to f: the user's
// rooms, as the membership events have told this process.
func (h *Hub) routed(f *feed, roomIDs []int64) map[int64]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[int64]bool, len(roomIDs))
	for _, r := range roomIDs {
		_, out[r] = h.rooms[r][f]
	}
	return out
}

func (h *Hub) detach(f *feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	removeFrom(h.users, f.principal.UserID, f)
	removeFrom(h.sessions, f.principal.SessionID, f)
	for r := range h.rooms {
		removeFrom(h.rooms, r, f)
	}
}

// EndSession closes the session's connections on this process.
func (h *Hub) EndSession(sessionID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for f := range h.sessions[sessionID] {
		f.kill(errorFrame("unauthenticated", "the session ended; log in again"))
	}
}

// Resync makes every connection re-check its rooms against the store, after
// the bus may have missed events.
func (h *Hub) Resync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fs := range h.users {
		for f := range fs {
			f.control(f.sync)
		}
	}
}

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
			f.kill(&chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Reconnect{Reconnect: &chatv1.Reconnect{
				DelayMs: delay.Milliseconds(), Reason: "server shutting down",
			}}})
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

// Run keeps presence alive until ctx ends: it renews this process's
// connections and sweeps those of processes that died.
func (h *Hub) Run(ctx context.Context) {
	beat := time.NewTicker(presence.HeartbeatEvery)
	sweep := time.NewTicker(presence.SweepEvery)
	defer beat.Stop()
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if err := h.presence.Heartbeat(ctx, h.liveConns()); err != nil {
				h.log.Warn("presence heartbeat", "err", err)
			}
		case <-sweep.C:
			h.sweep(ctx)
		}
	}
}

func (h *Hub) liveConns() []presence.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []presence.Conn
	for uid, fs := range h.users {
		for f := range fs {
			out = append(out, presence.Conn{UserID: uid, ID: f.id})
		}
	}
	return out
}

func (h *Hub) sweep(ctx context.Context) {
	users, err := h.presence.Sweep(ctx)
	if err != nil {
		h.log.Warn("presence sweep", "err", err)
		return
	}
	for _, uid := range users {
		h.settle(ctx, uid)
	}
}

// settle publishes the user's presence if it differs from what the rooms
// were last told.
func (h *Hub) settle(ctx context.Context, uid int64) {
	changed, online, err := h.presence.Settle(ctx, uid)
	if err != nil {
		h.log.Warn("presence settle", "user_id", uid, "err", err)
		return
	}
	if !changed {
		return
	}
	if err := h.chat.PresenceChanged(ctx, uid, online); err != nil {
		h.log.Warn("publish presence", "user_id", uid, "err", err)
	}
}

func addTo[K comparable](m map[K]map[*feed]struct{}, k K, f *feed) {
	set := m[k]
	if set == nil {
		set = map[*feed]struct{}{}
		m[k] = set
	}
	set[f] = struct{}{}
}

func removeFrom[K comparable](m map[K]map[*feed]struct{}, k K, f *feed) {
	if set := m[k]; set != nil {
		delete(set, f)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}
