package push

import "sync"

// queue is a connection's bounded FIFO of events. Its storage exists only
// while events wait, so an idle connection holds none; a buffered channel
// would hold its whole capacity for the connection's life.
//
// Presence events are gathered: a user's presence changes once and is told
// to every room the user is in, so a member of many rooms gets one event
// per shared room for each user coming or going, and a few members of a
// hundred rooms connecting together sent each of them thousands at once.
// While a user's presence event waits, the next ones of the same user and
// state join it and take no slot of their own; they all go out, in the
// order they came, where the first one waited. Only their order against
// other users' events and messages changes, which says nothing: a user's
// next change of state, or joining or leaving a room, starts a new group,
// so what a client learns about one user keeps its order.
type queue struct {
	mu    sync.Mutex
	items []*Item
	head  int
	limit int
	// groups is the waiting presence group of each user, made when the
	// first one waits and dropped when it is taken.
	groups map[int64]*Item
	// ready holds a token while events may wait, for the run loop to block on.
	ready chan struct{}
}

func newQueue(limit int) *queue {
	return &queue{limit: limit, ready: make(chan struct{}, 1)}
}

// put adds it unless the queue is full.
func (q *queue) put(it *Item) bool {
	q.mu.Lock()
	n := len(q.items) - q.head
	if q.join(it) {
		q.mu.Unlock()
		return true
	}
	if n >= q.limit {
		q.mu.Unlock()
		return false
	}
	if q.head > 0 && len(q.items) == cap(q.items) {
		// Reuse the slots already taken instead of growing.
		copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, q.group(it))
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// join adds a presence event to the waiting group of its user and state,
// if there is one. A user's joining or leaving a room ends the user's
// group, so later presence is not told before it.
func (q *queue) join(it *Item) bool {
	uid, online, ok := it.presence()
	if !ok {
		if uid, ok := it.member(); ok {
			delete(q.groups, uid)
		}
		return false
	}
	g := q.groups[uid]
	if g == nil {
		return false
	}
	if _, gOnline, _ := g.presence(); gOnline != online {
		delete(q.groups, uid) // a new state starts a new group
		return false
	}
	g.batch = append(g.batch, it)
	return true
}

// group wraps a presence event in a group of its own, the one later events
// of its user and state join while it waits; other events go as they are.
func (q *queue) group(it *Item) *Item {
	uid, _, ok := it.presence()
	if !ok {
		return it
	}
	g := &Item{ev: it.ev, batch: []*Item{it}}
	if q.groups == nil {
		q.groups = map[int64]*Item{}
	}
	q.groups[uid] = g
	return g
}

// take removes the oldest event, or returns nil when none waits. A group
// taken is closed: nothing joins it any more.
func (q *queue) take() *Item {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) {
		return nil
	}
	it := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if uid, _, ok := it.presence(); ok && q.groups[uid] == it {
		delete(q.groups, uid)
	}
	if q.head == len(q.items) {
		q.items, q.head = nil, 0 // drained: let the storage go
		q.groups = nil
	}
	return it
}

// len is how many events wait.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}
