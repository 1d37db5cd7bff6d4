package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Group commit: concurrent AppendMessage calls for one room are stored in
// one transaction, so a room pays one durable commit (an fsync of the redo
// log) per batch instead of one per message. While a room's batch commits,
// the next one gathers; a lone sender waits for nobody.
const (
	// maxBatch bounds one transaction's messages, and with maxBatchBytes
	// the INSERT statement's size (well under max_allowed_packet).
	maxBatch      = 128
	maxBatchBytes = 1 << 20
	// batchTimeout bounds one batch's transaction. It is not any caller's
	// context, because a batch serves many callers.
	batchTimeout = 10 * time.Second
)

// appendCall is one AppendMessage waiting for its room's batch.
type appendCall struct {
	m       chat.NewMessage
	msg     chat.Message
	created bool
	err     error
	done    chan struct{}
}

// roomQueue holds a room's calls while its commit loop runs.
type roomQueue struct{ calls []*appendCall }

// batcher routes calls to one commit loop per busy room.
type batcher struct {
	mu    sync.Mutex
	rooms map[int64]*roomQueue // rooms with a running commit loop
}

// AppendMessage stores a message under the room's next seq and returns once
// it is committed. Concurrent calls for the room share a transaction; the
// room row's lock orders batches (across processes too), so seqs are
// gapless and commit in order. A message already stored under the same
// sender, room and client id is returned instead, with created false.
func (s *Store) AppendMessage(ctx context.Context, m chat.NewMessage) (chat.Message, bool, error) {
	c := &appendCall{m: m, done: make(chan struct{})}
	s.batches.mu.Lock()
	q, running := s.batches.rooms[m.RoomID]
	if !running {
		q = &roomQueue{}
		s.batches.rooms[m.RoomID] = q
	}
	q.calls = append(q.calls, c)
	s.batches.mu.Unlock()
	if !running {
		go s.commitLoop(m.RoomID, q)
	}
	select {
	case <-c.done:
		return c.msg, c.created, c.err
	case <-ctx.Done():
		// The message may still commit; a retry with the same client id
		// then returns it.
		return chat.Message{}, false, ctx.Err()
	}
}

// commitLoop commits the room's queued calls batch by batch until none is
// left.
func (s *Store) commitLoop(roomID int64, q *roomQueue) {
	for {
		s.batches.mu.Lock()
		n, size := 0, 0
		for n < len(q.calls) && n < maxBatch && (n == 0 || size+len(q.calls[n].m.Body) <= maxBatchBytes) {
			size += len(q.calls[n].m.Body)
			n++
		}
		batch := q.calls[:n:n]
		q.calls = q.calls[n:]
		if n == 0 {
			delete(s.batches.rooms, roomID)
		}
		s.batches.mu.Unlock()
		if n == 0 {
			return
		}
		s.commitBatch(roomID, batch)
		for _, c := range batch {
			close(c.done)
		}
	}
}

// commitBatch stores the batch in one transaction. If that fails for a
// reason other than a deadlock, each call is tried on its own, so one bad
// message cannot fail its neighbours.
func (s *Store) commitBatch(roomID int64, batch []*appendCall) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	// Calls repeating an earlier call of the batch (a client retrying while
	// its first attempt waits) take that call's result.
	type key struct {
		sender int64
		id     string
	}
	first := map[key]*appendCall{}
	var uniq []*appendCall
	repeats := map[*appendCall]*appendCall{}
	for _, c := range batch {
		k := key{c.m.SenderID, c.m.ClientMsgID}
		if f, ok := first[k]; ok {
			repeats[c] = f
			continue
		}
		first[k] = c
		uniq = append(uniq, c)
	}
	err := s.withBatchTx(ctx, func(tx *sql.Tx, q *db.Queries) error { return appendBatch(ctx, tx, q, roomID, uniq) })
	if err != nil && len(uniq) > 1 {
		for _, c := range uniq {
			c.err = s.withBatchTx(ctx, func(tx *sql.Tx, q *db.Queries) error {
				return appendBatch(ctx, tx, q, roomID, []*appendCall{c})
			})
		}
	} else if err != nil {
		uniq[0].err = err
	}
	for c, f := range repeats {
		c.msg, c.err = f.msg, f.err
		c.created = false // the service compares bodies, so a changed one is a conflict
	}
}

// withBatchTx runs fn in a transaction at the server's default isolation
// (one round trip fewer than withTx's READ COMMITTED; the batch reads only
// rows it locked or wrote), retrying once on a deadlock.
func (s *Store) withBatchTx(ctx context.Context, fn func(*sql.Tx, *db.Queries) error) error {
	run := func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return domainError(err)
		}
		if err := fn(tx, s.q.WithTx(tx)); err != nil {
			_ = tx.Rollback()
			return err
		}
		return domainError(tx.Commit())
	}
	err := run()
	if isMySQLError(err, errDeadlock, errLockWaitTO) {
		err = run()
	}
	return err
}

// reserveSeqs raises the room's last_seq by n under the row lock and
// returns the new value. LAST_INSERT_ID(expr) hands it back in the UPDATE's
// reply, which saves a SELECT … FOR UPDATE round trip. (sqlc cannot express
// this or the variable-length INSERT below, hence the hand-written SQL.)
const reserveSeqs = "UPDATE rooms SET last_seq = LAST_INSERT_ID(last_seq + ?) WHERE id = ?"

// appendBatch stores the calls' messages with consecutive seqs and sets each
// call's result. Calls whose client id is already stored get that message.
func appendBatch(ctx context.Context, tx *sql.Tx, q *db.Queries, roomID int64, calls []*appendCall) error {
	res, err := tx.ExecContext(ctx, reserveSeqs, len(calls), roomID)
	if err != nil {
		return domainError(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return chat.Errorf(chat.ErrNotFound, "room %d not found", roomID)
	}
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	firstSeq := last - int64(len(calls)) + 1
	fresh := calls
	err = insertMessages(ctx, tx, roomID, firstSeq, fresh)
	if isMySQLError(err, errDuplicateEntry) {
		// A retry of a stored message: the failed statement is undone, the
		// transaction and its lock remain. Answer the retries, store the rest.
		fresh = fresh[:0:0]
		for _, c := range calls {
			row, err := q.GetMessageByClientID(ctx, db.GetMessageByClientIDParams{SenderID: c.m.SenderID, RoomID: roomID, ClientMsgID: c.m.ClientMsgID})
			switch {
			case err == nil:
				c.msg, c.created = toMessage(row.Message, row.User), false
			case errors.Is(err, sql.ErrNoRows):
				fresh = append(fresh, c)
			default:
				return domainError(err)
			}
		}
		if err := q.SetRoomSeq(ctx, db.SetRoomSeqParams{LastSeq: firstSeq + int64(len(fresh)) - 1, ID: roomID}); err != nil {
			return domainError(err)
		}
		if len(fresh) == 0 {
			return nil
		}
		err = insertMessages(ctx, tx, roomID, firstSeq, fresh)
	}
	if err != nil {
		return domainError(err)
	}
	rows, err := q.ListMessagesAfter(ctx, db.ListMessagesAfterParams{RoomID: roomID, Seq: firstSeq - 1, Limit: int32(len(fresh))})
	if err != nil {
		return domainError(err)
	}
	if len(rows) != len(fresh) {
		return errors.New("stored messages could not be read back")
	}
	for i, c := range fresh {
		c.msg, c.created = toMessage(rows[i].Message, rows[i].User), true
	}
	return nil
}

// insertMessages stores the calls' messages under seqs firstSeq, firstSeq+1, …
// in one statement.
func insertMessages(ctx context.Context, tx *sql.Tx, roomID, firstSeq int64, calls []*appendCall) error {
	var b strings.Builder
	b.WriteString("INSERT INTO messages (room_id, seq, sender_id, body, client_msg_id, created_at) VALUES ")
	args := make([]any, 0, 6*len(calls))
	for i, c := range calls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?)")
		args = append(args, roomID, firstSeq+int64(i), c.m.SenderID, c.m.Body, c.m.ClientMsgID, c.m.CreatedAt)
	}
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}
