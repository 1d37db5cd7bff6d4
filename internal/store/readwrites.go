package store

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/gen/db"
)

// Readers following a busy room move their watermarks many times a second.
// Each move alone would be a commit of its own, one fsync of the redo log,
// and a few thousand a second take the disk from the senders' group
// commits. So forward moves are gathered like messages are: one loop
// commits whatever waits in one transaction, while the next batch gathers.
const maxReadBatch = 256

// readWrites holds the forward moves waiting for the loop.
type readWrites struct {
	mu      sync.Mutex
	calls   []*readCall
	running bool
}

type readCall struct {
	p    db.AdvanceReadSeqParams
	n    int64 // rows changed: 0 when the watermark was already as far
	err  error
	done chan struct{}
}

// advanceReadSeq moves the member's watermark forward to p.ReadSeq unless it
// is there already, and reports whether it moved; it returns once the move
// is committed.
func (s *Store) advanceReadSeq(ctx context.Context, p db.AdvanceReadSeqParams) (int64, error) {
	c := &readCall{p: p, done: make(chan struct{})}
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
		return c.n, c.err
	case <-ctx.Done():
		return 0, ctx.Err()
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

// commitReads writes the batch in one transaction, under the store's
// timeout rather than any caller's context: a batch serves many callers.
func (s *Store) commitReads(batch []*readCall) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	err := s.withTx(ctx, func(q *db.Queries) error {
		for _, c := range batch {
			var err error
			if c.n, err = q.AdvanceReadSeq(ctx, c.p); err != nil {
				return domainError(err)
			}
		}
		return nil
	})
	if err != nil {
		for _, c := range batch {
			c.n, c.err = 0, err
		}
	}
}
