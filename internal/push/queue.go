package push

import "sync"

// queue is a connection's bounded FIFO of events. Its storage exists only
// while events wait, so an idle connection holds none; a buffered channel
// would hold its whole capacity for the connection's life.
type queue struct {
	mu    sync.Mutex
	items []*item
	head  int
	limit int
	// ready holds a token while events may wait, for the run loop to block on.
	ready chan struct{}
}

func newQueue(limit int) *queue {
	return &queue{limit: limit, ready: make(chan struct{}, 1)}
}

// put adds it unless the queue is full, and reports whether the queue is at
// least half full afterwards.
func (q *queue) put(it *item) (ok, crowded bool) {
	q.mu.Lock()
	n := len(q.items) - q.head
	if n >= q.limit {
		q.mu.Unlock()
		return false, true
	}
	if q.head > 0 && len(q.items) == cap(q.items) {
		// Reuse the slots already taken instead of growing.
		copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true, n+1 >= q.limit/2
}

// take removes the oldest event, or returns nil when none waits.
func (q *queue) take() *item {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) {
		return nil
	}
	it := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = nil, 0 // drained: let the storage go
	}
	return it
}

// len is how many events wait.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}
