package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/search"
)

// termRowsPerInsert bounds one INSERT of terms: 6 placeholders a row stays
// well under MySQL's 65,535 per statement.
const termRowsPerInsert = 8000

// weightScale: a term's weight is its occurrences per this many
// characters of the body, an integer so relevance sorts and pages exactly.
const weightScale = 1_000_000

// indexed is a message as the search index needs it.
type indexed struct {
	roomID, seq, senderID int64
	createdAt             time.Time
	body                  string
}

// insertTerms adds the messages' terms to the index, in as few statements
// as the placeholder limit allows.
func insertTerms(ctx context.Context, tx execer, msgs []indexed) error {
	var b strings.Builder
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO message_terms (term, created_at, room_id, seq, sender_id, weight) VALUES "+b.String(), args...)
		b.Reset()
		args = args[:0]
		return domainError(err)
	}
	for _, m := range msgs {
		text := search.Normalize(m.body)
		for term, n := range search.Terms(text) {
			if len(args) > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?)")
			args = append(args, []byte(term), m.createdAt, m.roomID, m.seq, m.senderID, n*weightScale/len(text.Runes))
			if len(args) >= 6*termRowsPerInsert {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// Reading the index: one lookup drives, the one with the fewest rows
// (probed up to probeRows each); the others are checked per candidate on
// the message's own terms (message_terms_message). Newest first, each term
// of the driver is read in key order and stops at the limit, so a common
// word costs about a page's rows, not its every occurrence.
const (
	probeRows = 10_000
	// maxDriverTerms bounds the terms a driving prefix expands to; past
	// it the prefix is read as one range and sorted.
	maxDriverTerms = 64
)

// SearchMessages returns a page of candidates: messages of the user's
// rooms having every lookup, in the spec's order after its key, in their
// current state with reactions as the user sees them.
func (s *Store) SearchMessages(ctx context.Context, spec chat.SearchSpec) (chat.SearchPage, error) {
	rooms := []int64{spec.RoomID}
	if spec.RoomID == 0 {
		var err error
		if rooms, err = s.q.ListUserRoomIDs(ctx, spec.UserID); err != nil || len(rooms) == 0 {
			return chat.SearchPage{}, domainError(err)
		}
	}
	driver, rows, others, err := s.driver(ctx, spec.Lookups)
	if err != nil {
		return chat.SearchPage{}, err
	}
	terms, err := s.driverTerms(ctx, driver)
	if err != nil || len(terms) == 0 {
		return chat.SearchPage{}, err
	}
	// Without other lookups every row of the window is a candidate, so a
	// short page means the rows ran out; with them, the driver's count in
	// every room (the scope's at most) says whether rows lie past it.
	page := chat.SearchPage{Wider: len(others) > 0 && rows >= min(int64(spec.Window), probeRows)}
	query, args := searchSQL(spec, rooms, terms, others)
	page.Candidates, err = s.candidates(ctx, query, args)
	if err != nil {
		return chat.SearchPage{}, err
	}
	return page, s.loadCandidates(ctx, spec.UserID, page.Candidates)
}

// candidates runs the candidates' query.
func (s *Store) candidates(ctx context.Context, query string, args []any) ([]chat.SearchCandidate, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, domainError(err)
	}
	defer rows.Close()
	var out []chat.SearchCandidate
	for rows.Next() {
		var k chat.SearchKey
		if err := rows.Scan(&k.CreatedAt, &k.RoomID, &k.Seq, &k.Score); err != nil {
			return nil, domainError(err)
		}
		out = append(out, chat.SearchCandidate{Key: k})
	}
	return out, domainError(rows.Err())
}

// driver picks the lookup with the fewest rows, counted in one statement
// up to probeRows each; with one lookup there is nothing to count (rows 0).
func (s *Store) driver(ctx context.Context, ls []search.Lookup) (_ search.Lookup, rows int64, _ []search.Lookup, _ error) {
	if len(ls) == 1 {
		return ls[0], 0, nil, nil
	}
	var q strings.Builder
	var args []any
	q.WriteString("SELECT ")
	for i, l := range ls {
		cond, a := lookupSQL("t", l)
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(SELECT COUNT(*) FROM (SELECT 1 FROM message_terms t WHERE " + cond + " LIMIT ?) x)")
		args = append(args, append(a, probeRows)...)
	}
	counts := make([]int64, len(ls))
	dest := make([]any, len(ls))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := s.db.QueryRowContext(ctx, q.String(), args...).Scan(dest...); err != nil {
		return search.Lookup{}, 0, nil, domainError(err)
	}
	best := 0
	for i, n := range counts {
		if n < counts[best] {
			best = i
		}
	}
	return ls[best], counts[best], append(ls[:best:best], ls[best+1:]...), nil
}

// driverTerms are the exact terms a driving lookup reads, each in key
// order: a prefix's distinct terms (read by a loose index scan), or the
// lookup itself when it is exact or its prefix has too many.
func (s *Store) driverTerms(ctx context.Context, l search.Lookup) ([]search.Lookup, error) {
	if !l.Prefix {
		return []search.Lookup{l}, nil
	}
	cond, args := lookupSQL("t", l)
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT t.term FROM message_terms t WHERE "+cond+" LIMIT ?", append(args, maxDriverTerms+1)...)
	if err != nil {
		return nil, domainError(err)
	}
	defer rows.Close()
	var out []search.Lookup
	for rows.Next() {
		var term []byte
		if err := rows.Scan(&term); err != nil {
			return nil, domainError(err)
		}
		out = append(out, search.Lookup{Term: string(term)})
	}
	if len(out) > maxDriverTerms {
		return []search.Lookup{l}, domainError(rows.Err())
	}
	return out, domainError(rows.Err())
}

// searchSQL builds the candidates' query; the lookups vary in number, so
// sqlc cannot. It is a UNION of one key-ordered read per driving term,
// newest first, in the rooms (rooms) and filters. Newest first, each read
// checks the other lookups as it goes and stops at the page. By relevance,
// each read takes the term's spec.Window newest rows whatever the other
// lookups, and only those rows are checked against them, summed per
// message and sorted: the work is bounded when the parts are common and
// seldom together (the service widens the window when it finds too few).
func searchSQL(spec chat.SearchSpec, rooms []int64, terms, others []search.Lookup) (string, []any) {
	relevance := spec.Order == chat.SearchRelevance
	check, cargs := othersSQL(others)
	if k := spec.From; k != nil && !relevance {
		check += " AND " + newerKey
		cargs = append(cargs, k.CreatedAt, k.CreatedAt, k.RoomID, k.RoomID, k.Seq)
	}
	const order = " ORDER BY t.created_at DESC, t.room_id DESC, t.seq DESC LIMIT ?"
	var branches []string
	var args []any
	for _, l := range terms {
		c, a := lookupSQL("t", l)
		where, wargs := scopeSQL(spec, rooms, c, a)
		args = append(args, wargs...)
		if relevance {
			branches = append(branches, "(SELECT * FROM (SELECT t.created_at, t.room_id, t.seq, t.weight AS score FROM "+
				"message_terms t FORCE INDEX (PRIMARY) WHERE "+where+order+") t WHERE TRUE"+check+")")
			args = append(append(args, spec.Window), cargs...)
		} else {
			branches = append(branches, "(SELECT t.created_at, t.room_id, t.seq, 0 AS score FROM message_terms t FORCE INDEX (PRIMARY) WHERE "+
				where+check+order+")")
			args = append(append(args, cargs...), spec.Limit)
		}
	}
	if !relevance {
		rows := strings.Join(branches, " UNION ")
		if len(branches) == 1 {
			return strings.TrimSuffix(strings.TrimPrefix(rows, "("), ")"), args
		}
		return "SELECT * FROM (" + rows + ") t ORDER BY t.created_at DESC, t.room_id DESC, t.seq DESC LIMIT ?", append(args, spec.Limit)
	}
	q := "SELECT t.created_at, t.room_id, t.seq, CAST(SUM(t.score) AS SIGNED) AS total FROM (" +
		strings.Join(branches, " UNION ALL ") + ") t GROUP BY t.created_at, t.room_id, t.seq"
	if k := spec.From; k != nil {
		q += " HAVING total < ? OR total = ? AND " + newerKey
		args = append(args, k.Score, k.Score, k.CreatedAt, k.CreatedAt, k.RoomID, k.RoomID, k.Seq)
	}
	return q + " ORDER BY total DESC, t.created_at DESC, t.room_id DESC, t.seq DESC LIMIT ?", append(args, spec.Limit)
}

// scopeSQL is the WHERE of the driving rows (cond): in the rooms, which
// the index row holds, so no join to memberships (whose lookup per row was
// two thirds of a read's time), and the filters. The term rows are read in
// primary key order (FORCE INDEX), on MySQL and MariaDB alike; left to
// itself, the optimizer may read every term of the caller's rooms and sort
// them.
func scopeSQL(spec chat.SearchSpec, rooms []int64, cond string, args []any) (string, []any) {
	var w strings.Builder
	w.WriteString(cond + " AND t.room_id IN (" + placeholders(len(rooms)) + ")")
	out := slices.Clone(args)
	for _, id := range rooms {
		out = append(out, id)
	}
	if spec.FromUserID != 0 {
		w.WriteString(" AND t.sender_id = ?")
		out = append(out, spec.FromUserID)
	}
	if !spec.After.IsZero() {
		w.WriteString(" AND t.created_at > ?")
		out = append(out, spec.After)
	}
	if !spec.Before.IsZero() {
		w.WriteString(" AND t.created_at < ?")
		out = append(out, spec.Before)
	}
	return w.String(), out
}

// othersSQL checks the other lookups among a driving row's message's own
// terms (message_terms_message), by a subquery that LIMIT keeps MariaDB
// from turning into a semi-join.
func othersSQL(others []search.Lookup) (string, []any) {
	var w strings.Builder
	var out []any
	for _, l := range others {
		c, a := lookupSQL("u", l)
		w.WriteString(" AND (SELECT 1 FROM message_terms u WHERE u.room_id = t.room_id AND u.seq = t.seq AND " + c + " LIMIT 1) = 1")
		out = append(out, a...)
	}
	return w.String(), out
}

// newerKey is true for the rows after a key in newest-first order.
const newerKey = "(t.created_at < ? OR t.created_at = ? AND (t.room_id < ? OR t.room_id = ? AND t.seq < ?))"

// lookupSQL is a lookup as a condition on the term rows of alias a.
func lookupSQL(a string, l search.Lookup) (string, []any) {
	if l.Prefix {
		return "(" + a + ".term >= ? AND " + a + ".term < ?)", []any{[]byte(l.Term), []byte(search.PrefixEnd(l.Term))}
	}
	return "(" + a + ".term = ?)", []any{[]byte(l.Term)}
}

// loadCandidates fills in the candidates' messages, of all their rooms at
// once.
func (s *Store) loadCandidates(ctx context.Context, viewer int64, cs []chat.SearchCandidate) error {
	if len(cs) == 0 {
		return nil
	}
	var keys msgKeys
	for _, c := range cs {
		keys.add(msgKey{c.Key.RoomID, c.Key.Seq})
	}
	rows, err := s.q.ListMessagesAt(ctx, db.ListMessagesAtParams{RoomIds: keys.rooms, Seqs: keys.seqs})
	if err != nil {
		return domainError(err)
	}
	asked := make(map[msgKey]bool, len(cs))
	for _, c := range cs {
		asked[msgKey{c.Key.RoomID, c.Key.Seq}] = true
	}
	msgs := make([]chat.Message, 0, len(cs))
	for _, r := range rows {
		if asked[msgKey{r.Message.RoomID, r.Message.Seq}] {
			msgs = append(msgs, toMessage(r.Message, r.User))
		}
	}
	if err := s.complete(ctx, viewer, msgs, true); err != nil {
		return err
	}
	found := make(map[msgKey]chat.Message, len(msgs))
	for _, m := range msgs {
		found[msgKey{m.RoomID, m.Seq}] = m
	}
	for i := range cs {
		cs[i].Message = found[msgKey{cs[i].Key.RoomID, cs[i].Key.Seq}]
	}
	return nil
}

// IndexBacklog indexes up to n of the messages stored before the search
// index existed, newest first (the most searched-for), and reports whether
// any are left. Processes take turns through the backlog's row lock.
func (s *Store) IndexBacklog(ctx context.Context, n int) (left bool, err error) {
	err = s.withSQLTx(ctx, func(tx *sql.Tx, q *db.Queries) error {
		below, err := q.LockSearchBacklog(ctx)
		if err != nil || below <= 1 {
			left = false
			return domainError(err)
		}
		rows, err := q.ListBacklog(ctx, db.ListBacklogParams{ID: below, Limit: int32(n)})
		if err != nil {
			return domainError(err)
		}
		msgs := make([]indexed, len(rows))
		for i, r := range rows {
			msgs[i] = indexed{r.RoomID, r.Seq, r.SenderID, r.CreatedAt, r.Body}
			below = r.ID
		}
		if left = len(rows) == n; !left {
			below = 0
		}
		if err := insertTerms(ctx, tx, msgs); err != nil {
			return err
		}
		return domainError(q.SetSearchBacklog(ctx, below))
	})
	return left, err
}
