package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Group commit: concurrent AppendMessage calls are stored in one
// transaction, so they share one durable commit (an fsync of the redo log)
// instead of paying one each. Rooms are spread over commitShards queues by
// id; each queue has at most one transaction in flight, and while it
// commits, the next batch gathers. A lone sender waits for nobody.
const (
	// commitShards is how many batches may commit at once. A few keep the
	// disk busy while batches gather; many would only split them.
	commitShards = 4
	// maxBatch bounds one transaction's messages, and with maxBatchBytes
	// the INSERT statement's size (well under max_allowed_packet).
	maxBatch      = 128
	maxBatchBytes = 1 << 20
)

// appendCall is one AppendMessage waiting for its room's batch.
type appendCall struct {
	m       chat.NewMessage
	sender  db.User // read with the membership (onlyMembers)
	seq     int64   // assigned under the room's lock
	msg     chat.Message
	created bool
	err     error
	done    chan struct{}
	// attachments are m.AttachmentIDs' uploads once attached (attach).
	attachments []chat.Attachment
}

// commitQueue holds a shard's calls while its commit loop runs.
type commitQueue struct {
	calls   []*appendCall
	running bool
}

// batcher routes calls to their shard's commit loop.
type batcher struct {
	mu     sync.Mutex
	shards [commitShards]commitQueue
}

// AppendMessage stores a message under the room's next seq and returns once
// it is committed. Concurrent calls share a transaction; each room row's
// lock orders the batches that write to the room (across processes too), so
// seqs are gapless and commit in order. A message already stored under the same
// sender, room and client id is returned instead, with created false.
func (s *Store) AppendMessage(ctx context.Context, m chat.NewMessage) (chat.Message, bool, error) {
	c := &appendCall{m: m, done: make(chan struct{})}
	q := &s.batches.shards[uint64(m.RoomID)%commitShards]
	s.batches.mu.Lock()
	q.calls = append(q.calls, c)
	start := !q.running
	q.running = true
	s.batches.mu.Unlock()
	if start {
		go s.commitLoop(q)
	}
	// A caller waits for its batch at most the store's timeout, however
	// long the batches ahead of it take: a stalled MySQL answers
	// unavailable within that bound, like every other call.
	wait := time.NewTimer(s.timeout)
	defer wait.Stop()
	select {
	case <-c.done:
		return c.msg, c.created, c.err
	case <-ctx.Done():
		// The message may still commit; a retry with the same client id
		// then returns it.
		return chat.Message{}, false, ctx.Err()
	case <-wait.C:
		return chat.Message{}, false, s.commitTimedOut()
	}
}

// commitTimedOut is the answer to a caller whose commit MySQL did not
// confirm in time. The message may still commit; it is not acknowledged,
// and a retry with the same client id returns it if it did.
func (s *Store) commitTimedOut() error {
	return chat.Errorf(chat.ErrUnavailable, "MySQL did not confirm the commit within %s", s.timeout)
}

// commitLoop commits the shard's queued calls batch by batch until none is
// left.
func (s *Store) commitLoop(q *commitQueue) {
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
			q.calls, q.running = nil, false
		}
		s.batches.mu.Unlock()
		if n == 0 {
			return
		}
		s.commitBatch(batch)
		for _, c := range batch {
			close(c.done)
		}
	}
}

// commitBatch stores the batch in one transaction. If that fails for a
// reason other than a deadlock, each room's calls are tried in a
// transaction of their own, and then each call alone, so one bad message
// cannot fail its neighbours.
func (s *Store) commitBatch(batch []*appendCall) {
	// The batch's own deadline, not any caller's context: a batch serves
	// many callers.
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	// Calls repeating an earlier call of the batch (a client retrying while
	// its first attempt waits) take that call's result. A repeat is the same
	// sender, room and client id, the key the messages table is unique on:
	// the same id sent to two rooms is two messages.
	type key struct {
		sender, room int64
		id           string
	}
	first := map[key]*appendCall{}
	var uniq []*appendCall
	repeats := map[*appendCall]*appendCall{}
	for _, c := range batch {
		k := key{c.m.SenderID, c.m.RoomID, c.m.ClientMsgID}
		if f, ok := first[k]; ok {
			repeats[c] = f
			continue
		}
		first[k] = c
		uniq = append(uniq, c)
	}
	rooms := byRoom(s.onlyMembers(ctx, uniq))
	if len(rooms) > 1 && s.withBatchTx(ctx, func(tx *sql.Tx, _ *db.Queries) error { return appendRooms(ctx, tx, rooms) }) == nil {
		rooms = nil // stored together
	}
	// One room, or a several-room batch that met a retry of a stored
	// message or a missing room: room by room.
	for _, r := range rooms {
		s.appendRoom(ctx, r)
	}
	for c, f := range repeats {
		c.msg, c.err = f.msg, f.err
		c.created = false // the service compares bodies, so a changed one is a conflict
	}
}

// onlyMembers answers the calls whose sender is not a member of the room
// and returns the others, each with its sender as messages show them: one
// read for the batch stands in for a check per send and for a read of the
// senders under the room's lock. Like such a check it is read before the
// lock, so a send racing its sender's removal may land, as one sent a
// moment earlier would.
func (s *Store) onlyMembers(ctx context.Context, calls []*appendCall) []*appendCall {
	type pair struct{ room, user int64 }
	member := make(map[pair]*db.User, len(calls))
	var where strings.Builder
	args := make([]any, 0, 2*len(calls))
	for _, c := range calls {
		p := pair{c.m.RoomID, c.m.SenderID}
		if _, ok := member[p]; ok {
			continue
		}
		member[p] = nil
		if len(args) > 0 {
			where.WriteString(" OR ")
		}
		// Pairs, not a room list and a user list: their cross product
		// would read every member of the rooms once MySQL gives up
		// expanding it into point lookups.
		where.WriteString("(m.room_id = ? AND m.user_id = ?)")
		args = append(args, p.room, p.user)
	}
	err := s.sendersWhere(ctx, where.String(), args, func(room int64, u db.User) { member[pair{room, u.ID}] = &u })
	if err != nil {
		for _, c := range calls {
			c.err = err
		}
		return nil
	}
	kept := calls[:0:0]
	for _, c := range calls {
		if u := member[pair{c.m.RoomID, c.m.SenderID}]; u != nil {
			c.sender = *u
			kept = append(kept, c)
		} else {
			c.err = notMember(c.m.RoomID)
		}
	}
	return kept
}

// sendersWhere calls found with each member the condition selects (on
// memberships m), and their room.
func (s *Store) sendersWhere(ctx context.Context, where string, args []any, found func(room int64, u db.User)) error {
	rows, err := s.db.QueryContext(ctx, `SELECT m.room_id, u.id, u.username, u.email, u.display_name, u.status_text, u.avatar, u.created_at
FROM memberships m JOIN users u ON u.id = m.user_id WHERE `+where, args...)
	if err != nil {
		return domainError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var room int64
		var u db.User
		if err := rows.Scan(&room, &u.ID, &u.Username, &u.Email, &u.DisplayName, &u.StatusText, &u.Avatar, &u.CreatedAt); err != nil {
			return domainError(err)
		}
		found(room, u)
	}
	return domainError(rows.Err())
}

// roomCalls are one room's calls of a batch.
type roomCalls struct {
	id    int64
	calls []*appendCall
}

// byRoom groups calls by room, in ascending room id: every transaction
// that locks several rooms locks them in that order, so two never wait on
// each other in a cycle.
func byRoom(calls []*appendCall) []roomCalls {
	idx := map[int64]int{}
	var out []roomCalls
	for _, c := range calls {
		i, ok := idx[c.m.RoomID]
		if !ok {
			i = len(out)
			idx[c.m.RoomID] = i
			out = append(out, roomCalls{id: c.m.RoomID})
		}
		out[i].calls = append(out[i].calls, c)
	}
	slices.SortFunc(out, func(a, b roomCalls) int { return cmp.Compare(a.id, b.id) })
	return out
}

// appendRoom stores one room's calls in a transaction, or each call in its
// own when that fails.
func (s *Store) appendRoom(ctx context.Context, r roomCalls) {
	err := s.withBatchTx(ctx, func(tx *sql.Tx, q *db.Queries) error { return appendBatch(ctx, tx, q, r.id, r.calls) })
	if err == nil {
		return
	}
	if len(r.calls) == 1 || errors.Is(err, chat.ErrUnavailable) {
		// Alone, or MySQL is down: one transaction per call would only
		// wait longer for the same answer.
		for _, c := range r.calls {
			c.err = err
		}
		return
	}
	for _, c := range r.calls {
		c.err = s.withBatchTx(ctx, func(tx *sql.Tx, q *db.Queries) error {
			return appendBatch(ctx, tx, q, r.id, []*appendCall{c})
		})
	}
}

// withBatchTx runs fn in a transaction at the server's default isolation
// (one round trip fewer than withTx's READ COMMITTED; the batch reads only
// rows it locked or wrote), retrying once on a deadlock.
func (s *Store) withBatchTx(ctx context.Context, fn func(*sql.Tx, *db.Queries) error) error {
	run := func() error {
		tx, err := s.batchDB.BeginTx(ctx, nil)
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
	if err != nil && ctx.Err() != nil {
		// The batch's deadline passed: MySQL is too slow to answer, which
		// its callers hear as unavailable, not as their own deadline.
		return s.commitTimedOut()
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
	err = insertMessages(ctx, tx, firstSeq, fresh)
	if isMySQLError(err, errDuplicateEntry) {
		// A retry of a stored message: the failed statement is undone, the
		// transaction and its lock remain. Answer the retries, store the rest.
		fresh = fresh[:0:0]
		for _, c := range calls {
			row, err := q.GetMessageByClientID(ctx, db.GetMessageByClientIDParams{SenderID: c.m.SenderID, RoomID: roomID, ClientMsgID: c.m.ClientMsgID})
			switch {
			case err == nil:
				c.msg, c.created = toMessage(row.Message, row.User), false
				if c.msg.Attachments, err = attachmentsOf(ctx, q, roomID, c.msg.Seq); err != nil {
					return err
				}
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
		err = insertMessages(ctx, tx, firstSeq, fresh)
	}
	return domainError(err)
}

// insertMessages gives the calls (all of one room) seqs firstSeq,
// firstSeq+1, … and stores them.
func insertMessages(ctx context.Context, tx *sql.Tx, firstSeq int64, calls []*appendCall) error {
	for i, c := range calls {
		c.seq = firstSeq + int64(i)
	}
	return insertRows(ctx, tx, calls)
}

// insertRows stores the calls' messages under their seqs in one
// statement, counts them for their senders (countSent), then stores their
// search terms and their mentions, which also count for the members
// mentioned (adjustUnread), and answers each call with its message. The
// calls are in (room, seq) order.
func insertRows(ctx context.Context, tx *sql.Tx, calls []*appendCall) error {
	var b strings.Builder
	b.WriteString("INSERT INTO messages (room_id, seq, sender_id, body, client_msg_id, created_at, reply_to_seq) VALUES ")
	args := make([]any, 0, 7*len(calls))
	var mentions []mentionRows
	docs := make([]indexed, len(calls))
	for i, c := range calls {
		// What MySQL keeps, so the message answered is the one stored.
		c.m.CreatedAt = c.m.CreatedAt.UTC().Truncate(time.Microsecond)
		docs[i] = indexed{c.m.RoomID, c.seq, c.m.SenderID, c.m.CreatedAt, c.m.Body}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?)")
		args = append(args, c.m.RoomID, c.seq, c.m.SenderID, c.m.Body, c.m.ClientMsgID, c.m.CreatedAt, c.m.ReplyToSeq)
		if len(c.m.Mentions.UserIDs) > 0 || c.m.Mentions.Room {
			mentions = append(mentions, mentionRows{c.m.RoomID, c.seq, c.m.SenderID, c.m.Mentions})
		}
	}
	// The message rows, their senders' counts, their terms and their ids
	// in one round trip: the room's next batch waits for each of this one's.
	w := &statements{tx: tx}
	if _, err := w.ExecContext(ctx, b.String(), args...); err != nil {
		return err
	}
	if err := countSent(ctx, w, calls); err != nil {
		return err
	}
	if err := insertTerms(ctx, w, docs); err != nil {
		return err
	}
	if err := storedIDs(ctx, w, calls); err != nil {
		return err
	}
	if err := insertMentions(ctx, tx, mentions); err != nil {
		return err
	}
	if err := attach(ctx, tx, calls); err != nil {
		return err
	}
	for _, r := range mentions {
		if err := adjustUnread(ctx, tx, r.room, r.seq, r.sender, false, chat.Mentions{}, r.m); err != nil {
			return err
		}
	}
	for _, c := range calls {
		c.msg.Attachments = c.attachments
	}
	return nil
}

// storedIDs reads the ids of the rows just inserted, the last of the
// statements w sends, and answers the calls (in (room, seq) order, as the
// ids come) with their messages as stored.
func storedIDs(ctx context.Context, w *statements, calls []*appendCall) error {
	var where strings.Builder
	var args []any
	for i := 0; i < len(calls); {
		j := i + 1
		for j < len(calls) && calls[j].m.RoomID == calls[i].m.RoomID {
			j++
		}
		if i > 0 {
			where.WriteString(" OR ")
		}
		where.WriteString("(room_id = ? AND seq BETWEEN ? AND ?)")
		args = append(args, calls[i].m.RoomID, calls[i].seq, calls[j-1].seq)
		i = j
	}
	rows, err := w.query(ctx, "SELECT id FROM messages WHERE "+where.String()+" ORDER BY room_id, seq", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return domainError(err)
		}
		if i == len(calls) {
			return errors.New("more messages stored than sent")
		}
		calls[i].msg, calls[i].created = storedMessage(id, calls[i]), true
	}
	if err := rows.Err(); err != nil {
		return domainError(err)
	}
	if i != len(calls) {
		return errors.New("stored messages could not be read back")
	}
	return nil
}

// storedMessage is the call's message as insertRows stored it under id.
func storedMessage(id int64, c *appendCall) chat.Message {
	return toMessage(db.Message{
		ID: id, RoomID: c.m.RoomID, Seq: c.seq, SenderID: c.m.SenderID, Body: c.m.Body,
		ClientMsgID: c.m.ClientMsgID, CreatedAt: c.m.CreatedAt, ReplyToSeq: c.m.ReplyToSeq,
	}, c.sender)
}

// maxQueryBytes bounds a query of joined statements, arguments written
// out, well under max_allowed_packet (16 MB on MariaDB, 64 MB on MySQL).
const maxQueryBytes = 4 << 20

// statements joins the statements given to its ExecContext into as few
// queries as maxQueryBytes allows, sent by query (or flush) or when full:
// one round trip of the batch transaction's instead of one each. MySQL
// stops at the first statement that fails, whose error the query returns.
// Only the last statement's rows are read (query); the others' results
// are not kept.
type statements struct {
	tx    *sql.Tx
	sql   strings.Builder
	args  []any
	bytes int
}

func (w *statements) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	n := len(query) + argBytes(args)
	if w.sql.Len() > 0 && w.bytes+n > maxQueryBytes {
		if err := w.flush(ctx); err != nil {
			return nil, err
		}
	}
	if w.sql.Len() > 0 {
		w.sql.WriteString(";\n")
	}
	w.sql.WriteString(query)
	w.args = append(w.args, args...)
	w.bytes += n
	return driver.ResultNoRows, nil
}

// flush sends the statements gathered.
func (w *statements) flush(ctx context.Context) error {
	if w.sql.Len() == 0 {
		return nil
	}
	_, err := w.tx.ExecContext(ctx, w.sql.String(), w.args...)
	w.reset()
	return err
}

// query sends the statements gathered with q last and returns q's rows.
func (w *statements) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if _, err := w.ExecContext(ctx, q, args...); err != nil {
		return nil, err
	}
	rows, err := w.tx.QueryContext(ctx, w.sql.String(), w.args...)
	w.reset()
	return rows, err
}

func (w *statements) reset() {
	w.sql.Reset()
	w.args, w.bytes = w.args[:0], 0
}

// argBytes is about how long the arguments are once written into a query:
// a string or bytes escaped and quoted at worst, a number or timestamp at
// its longest.
func argBytes(args []any) int {
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += 2*len(v) + 2
		case []byte:
			n += 2*len(v) + len("_binary''")
		default:
			n += len("'2006-01-02 15:04:05.999999'")
		}
	}
	return n
}

// errFallBack makes a several-room batch retry room by room.
var errFallBack = errors.New("batch needs room-by-room handling")

// appendRooms stores several rooms' calls in one transaction: it raises
// each room's last_seq in one UPDATE (which locks the rows in id order)
// and reads the new values in the same round trip, then inserts every
// message (insertRows). Anything unusual (a retry of a stored message, a
// missing room) returns an error, and the caller handles the rooms one by
// one.
func appendRooms(ctx context.Context, tx *sql.Tx, rooms []roomCalls) error {
	var upd, in strings.Builder
	args := make([]any, 0, 3*len(rooms))
	upd.WriteString("UPDATE rooms SET last_seq = last_seq + CASE id")
	for _, r := range rooms {
		upd.WriteString(" WHEN ? THEN ?")
		args = append(args, r.id, len(r.calls))
	}
	ids := make([]any, len(rooms))
	for i, r := range rooms {
		if i > 0 {
			in.WriteByte(',')
		}
		in.WriteByte('?')
		ids[i] = r.id
	}
	upd.WriteString(" END WHERE id IN (" + in.String() + ")")
	w := &statements{tx: tx}
	if _, err := w.ExecContext(ctx, upd.String(), append(args, ids...)...); err != nil {
		return err
	}
	rows, err := w.query(ctx, "SELECT id, last_seq FROM rooms WHERE id IN ("+in.String()+")", ids...)
	if err != nil {
		return domainError(err)
	}
	last := make(map[int64]int64, len(rooms))
	for rows.Next() {
		var id, seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			rows.Close()
			return domainError(err)
		}
		last[id] = seq
	}
	if err := rows.Close(); err != nil {
		return domainError(err)
	}
	if len(last) != len(rooms) {
		return errFallBack // a missing room, which the UPDATE left alone
	}
	var all []*appendCall
	for _, r := range rooms {
		first := last[r.id] - int64(len(r.calls)) + 1
		for j, c := range r.calls {
			c.seq = first + int64(j)
		}
		all = append(all, r.calls...)
	}
	err = insertRows(ctx, tx, all)
	if isMySQLError(err, errDuplicateEntry) {
		return errFallBack
	}
	return domainError(err)
}
