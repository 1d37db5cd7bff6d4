package store

import (
	"cmp"
	"context"
	"database/sql"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Readers following a busy room move their watermarks many times a second.
// Each move alone would be a read and a commit of its own, one fsync of the
// redo log, and a few thousand a second take the disk and the CPU from the
// senders. So forward moves are gathered like messages are: one loop reads
// every waiting member's watermark in one statement and moves the ones
// that move (moveWatermark) in one transaction, while the next batch
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

func (k memberKey) compare(o memberKey) int {
	return cmp.Or(cmp.Compare(k.room, o.room), cmp.Compare(k.user, o.user))
}

// readState is a member's watermark, the room's last seq and the member's
// receipts setting.
type readState struct {
	readSeq, lastSeq int64
	share            bool
}

// commitReads answers the batch, calls in order, under the store's timeout
// rather than any caller's: a batch serves many callers. Each member's
// watermark moves once, to the furthest of their calls, the members in key
// order so that batches of several processes take the locks in one order.
func (s *Store) commitReads(batch []*readCall) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	err := s.withSQLTx(ctx, func(tx *sql.Tx, q *db.Queries) error {
		states, err := readStates(ctx, tx, batch)
		if err != nil {
			return err
		}
		targets := map[memberKey]int64{}
		for _, c := range batch {
			k := memberKey{c.room, c.user}
			if st, ok := states[k]; ok && min(c.seq, st.lastSeq) > st.readSeq { // else it can only have gone further
				targets[k] = max(targets[k], min(c.seq, st.lastSeq))
			}
		}
		for _, k := range slices.SortedFunc(maps.Keys(targets), memberKey.compare) {
			st := states[k]
			if st.readSeq, err = moveWatermark(ctx, q, k, targets[k], false); err != nil {
				return err
			}
			states[k] = st
		}
		for _, c := range batch {
			k := memberKey{c.room, c.user}
			st, ok := states[k]
			if !ok {
				c.err = chat.ErrNotFound
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

// readStates reads the batch's members' watermarks in one statement, one
// key lookup each.
func readStates(ctx context.Context, tx *sql.Tx, batch []*readCall) (map[memberKey]readState, error) {
	var where strings.Builder
	args := make([]any, 0, 2*len(batch))
	for i, c := range batch {
		if i > 0 {
			where.WriteString(" OR ")
		}
		where.WriteString("(m.room_id = ? AND m.user_id = ?)")
		args = append(args, c.room, c.user)
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.room_id, m.user_id, m.read_seq, r.last_seq, u.share_read_receipts
FROM memberships m JOIN rooms r ON r.id = m.room_id JOIN users u ON u.id = m.user_id
WHERE `+where.String(), args...)
	if err != nil {
		return nil, domainError(err)
	}
	defer rows.Close()
	out := make(map[memberKey]readState, len(batch))
	for rows.Next() {
		var k memberKey
		var st readState
		if err := rows.Scan(&k.room, &k.user, &st.readSeq, &st.lastSeq, &st.share); err != nil {
			return nil, domainError(err)
		}
		out[k] = st
	}
	return out, domainError(rows.Err())
}
