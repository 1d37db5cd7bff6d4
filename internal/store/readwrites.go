package store

import (
	"context"
	"database/sql"
	"slices"
	"sync"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Readers following a busy room move their watermarks many times a second.
// Each move alone would be a read and a commit of its own, one fsync of the
// redo log, and a few thousand a second take the disk and the CPU from the
// senders. So forward moves are gathered like messages are: one loop reads
// every waiting member's watermark in one statement and moves the ones
// that move (passWatermarks) in one transaction, while the next batch
// gathers.
const maxReadBatch = 256

// readWrites holds the forward moves waiting for the loop.
type readWrites struct {
	mu      sync.Mutex
	calls   []*readCall
	running bool
}

type readCall struct {
	room, user, seq int64
	mv              chat.ReadMove
	err             error
	done            chan struct{}
}

// advanceReadSeq moves the member's watermark forward to seq, clamped to the
// room's last seq, unless it is there already; it returns once the move is
// committed.
func (s *Store) advanceReadSeq(ctx context.Context, roomID, userID, seq int64) (chat.ReadMove, error) {
	c := &readCall{room: roomID, user: userID, seq: seq, done: make(chan struct{})}
	w := &s.reads
	w.mu.Lock()
	w.calls = append(w.calls, c)
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		go s.readLoop()
	}
	select {
	case <-c.done:
		return c.mv, c.err
	case <-ctx.Done():
		return chat.ReadMove{}, ctx.Err()
	}
}

// readLoop commits the waiting moves batch by batch until none is left.
func (s *Store) readLoop() {
	w := &s.reads
	for {
		w.mu.Lock()
		n := min(len(w.calls), maxReadBatch)
		batch := w.calls[:n:n]
		w.calls = w.calls[n:]
		if n == 0 {
			w.calls, w.running = nil, false
		}
		w.mu.Unlock()
		if n == 0 {
			return
		}
		s.commitReads(batch)
		for _, c := range batch {
			close(c.done)
		}
	}
}

// memberKey names one membership.
type memberKey struct{ room, user int64 }

// commitReads answers the batch, calls in order, under the store's timeout
// rather than any caller's: a batch serves many callers. Each member's
// watermark moves once, to the furthest of their calls. The one locking
// read takes the members' rows in key order (the primary key's), so that
// batches of several processes take the locks in one order.
func (s *Store) commitReads(batch []*readCall) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	err := s.withSQLTx(ctx, func(tx *sql.Tx, _ *db.Queries) error {
		var keys []memberKey
		for _, c := range batch {
			if k := (memberKey{c.room, c.user}); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		states, err := lockReadStates(ctx, tx, keys)
		if err != nil {
			return err
		}
		moves := make([]watermarkMove, 0, len(states))
		for k, st := range states {
			mv := watermarkMove{k, st.readSeq, st.readSeq, st.clear}
			for _, c := range batch {
				if (memberKey{c.room, c.user}) == k {
					mv.to = max(mv.to, min(c.seq, st.lastSeq))
				}
			}
			moves = append(moves, mv)
		}
		if err := passWatermarks(ctx, tx, moves); err != nil {
			return err
		}
		for _, c := range batch {
			k := memberKey{c.room, c.user}
			st, ok := states[k]
			if !ok {
				c.err = chat.Errorf(chat.ErrNotFound, "you are not a member of room %d", c.room)
				continue
			}
			target := min(c.seq, st.lastSeq)
			c.mv = chat.ReadMove{ReadSeq: max(st.readSeq, target), Changed: target > st.readSeq, ShareReceipts: st.share}
			st.readSeq = c.mv.ReadSeq
			states[k] = st
		}
		return nil
	})
	if err != nil {
		for _, c := range batch {
			c.mv, c.err = chat.ReadMove{}, err
		}
	}
}
