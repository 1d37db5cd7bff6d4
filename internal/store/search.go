package store

import (
	"context"
	"database/sql"
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
func insertTerms(ctx context.Context, tx db.DBTX, msgs []indexed) error {
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
func (s *Store) SearchMessages(ctx context.Context, spec chat.SearchSpec) ([]chat.SearchCandidate, error) {
	driver, others, err := s.driver(ctx, spec.Lookups)
	if err != nil {
		return nil, err
	}
	terms, err := s.driverTerms(ctx, driver)
	if err != nil || len(terms) == 0 {
		return nil, err
	}
	query, args := searchSQL(spec, terms, others)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, domainError(err)
	}
	var out []chat.SearchCandidate
	for rows.Next() {
		var k chat.SearchKey
		if err := rows.Scan(&k.CreatedAt, &k.RoomID, &k.Seq, &k.Score); err != nil {
			rows.Close()
			return nil, domainError(err)
		}
		out = append(out, chat.SearchCandidate{Key: k})
	}
	if err := rows.Close(); err != nil {
		return nil, domainError(err)
	}
	return out, s.loadCandidates(ctx, spec.UserID, out)
}

// driver picks the lookup with the fewest rows, counted in one statement.
func (s *Store) driver(ctx context.Context, ls []search.Lookup) (search.Lookup, []search.Lookup, error) {
	if len(ls) == 1 {
		return ls[0], nil, nil
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
		return search.Lookup{}, nil, domainError(err)
	}
	best := 0
	for i, n := range counts {
		if n < counts[best] {
			best = i
		}
	}
	return ls[best], append(ls[:best:best], ls[best+1:]...), nil
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

// relevanceWindow is how many of each driving term's newest matches
// relevance ranks: a common word's every occurrence would have to be read
// and sorted, and an old message that says it twice seldom beats the last
// month's.
const relevanceWindow = 1000

// searchSQL builds the candidates' query; the lookups vary in number, so
// sqlc cannot. It is a UNION of one key-ordered read per driving term,
// newest first, stopped at the page (newest first) or at relevanceWindow
// rows whose weights are then summed per message and sorted.
func searchSQL(spec chat.SearchSpec, terms, others []search.Lookup) (string, []any) {
	relevance := spec.Order == chat.SearchRelevance
	limit, score, union := spec.Limit, "0", " UNION "
	if relevance {
		limit, score, union = relevanceWindow, "t.weight", " UNION ALL "
	}
	var branches []string
	var args []any
	for _, l := range terms {
		c, a := lookupSQL("t", l)
		from, where, sargs := scopeSQL(spec, c, a, others, !relevance)
		branches = append(branches, "(SELECT STRAIGHT_JOIN t.created_at, t.room_id, t.seq, "+score+" AS score FROM "+from+" WHERE "+where+
			" ORDER BY t.created_at DESC, t.room_id DESC, t.seq DESC LIMIT ?)")
		args = append(append(args, sargs...), limit)
	}
	rows := strings.Join(branches, union)
	if !relevance {
		if len(branches) == 1 {
			return strings.TrimSuffix(strings.TrimPrefix(rows, "("), ")"), args
		}
		return "SELECT * FROM (" + rows + ") t ORDER BY t.created_at DESC, t.room_id DESC, t.seq DESC LIMIT ?", append(args, spec.Limit)
	}
	q := "SELECT t.created_at, t.room_id, t.seq, CAST(SUM(t.score) AS SIGNED) AS total FROM (" + rows + ") t GROUP BY t.created_at, t.room_id, t.seq"
	if k := spec.From; k != nil {
		q += " HAVING total < ? OR total = ? AND " + newerKey
		args = append(args, k.Score, k.Score, k.CreatedAt, k.CreatedAt, k.RoomID, k.RoomID, k.Seq)
	}
	return q + " ORDER BY total DESC, t.created_at DESC, t.room_id DESC, t.seq DESC LIMIT ?", append(args, spec.Limit)
}

// scopeSQL is the FROM and WHERE of the driving rows (cond): the caller's
// rooms, the filters, the other lookups on the message's own terms and,
// newest first, the page's key. The plan is spelled out, the same on
// MySQL and MariaDB: the term rows are read in primary key order
// (FORCE INDEX, STRAIGHT_JOIN), each checked against the caller's
// membership by its key and against the other lookups by a subquery that
// LIMIT keeps from being turned into a join; left to itself, the optimizer
// may read every term of the caller's rooms and sort them.
func scopeSQL(spec chat.SearchSpec, cond string, args []any, others []search.Lookup, keyed bool) (from, where string, _ []any) {
	from = "message_terms t FORCE INDEX (PRIMARY)"
	var w strings.Builder
	w.WriteString(cond)
	var out []any
	if spec.RoomID != 0 {
		w.WriteString(" AND t.room_id = ?")
		out = append(args, spec.RoomID)
	} else {
		from += " JOIN memberships m ON m.room_id = t.room_id AND m.user_id = ?"
		out = append([]any{spec.UserID}, args...)
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
	for _, l := range others {
		c, a := lookupSQL("u", l)
		w.WriteString(" AND (SELECT 1 FROM message_terms u WHERE u.room_id = t.room_id AND u.seq = t.seq AND " + c + " LIMIT 1) = 1")
		out = append(out, a...)
	}
	if k := spec.From; keyed && k != nil {
		w.WriteString(" AND " + newerKey)
		out = append(out, k.CreatedAt, k.CreatedAt, k.RoomID, k.RoomID, k.Seq)
	}
	return from, w.String(), out
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
