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

// SearchMessages returns a page of candidates: messages of the user's
// rooms having every lookup, in the spec's order after its key, in their
// current state with reactions as the user sees them. The query groups the
// matching term rows by message; a message passes when each lookup matched
// one of its rows.
func (s *Store) SearchMessages(ctx context.Context, spec chat.SearchSpec) ([]chat.SearchCandidate, error) {
	query, args := searchSQL(spec)
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

// searchSQL builds the candidates' query; the lookups vary in number, so
// sqlc cannot.
func searchSQL(spec chat.SearchSpec) (string, []any) {
	var w, have strings.Builder
	var args, haveArgs []any
	w.WriteString("(")
	for i, l := range spec.Lookups {
		cond, cargs := lookupSQL(l)
		if i > 0 {
			w.WriteString(" OR ")
			have.WriteString(" AND ")
		}
		w.WriteString(cond)
		args = append(args, cargs...)
		have.WriteString("MAX(" + cond + ") = 1")
		haveArgs = append(haveArgs, cargs...)
	}
	w.WriteString(")")
	if spec.RoomID != 0 {
		w.WriteString(" AND t.room_id = ?")
		args = append(args, spec.RoomID)
	} else {
		w.WriteString(" AND t.room_id IN (SELECT room_id FROM memberships WHERE user_id = ?)")
		args = append(args, spec.UserID)
	}
	if spec.FromUserID != 0 {
		w.WriteString(" AND t.sender_id = ?")
		args = append(args, spec.FromUserID)
	}
	if !spec.After.IsZero() {
		w.WriteString(" AND t.created_at > ?")
		args = append(args, spec.After)
	}
	if !spec.Before.IsZero() {
		w.WriteString(" AND t.created_at < ?")
		args = append(args, spec.Before)
	}
	order := "t.created_at DESC, t.room_id DESC, t.seq DESC"
	if spec.Order == chat.SearchRelevance {
		order = "score DESC, " + order
		if k := spec.From; k != nil {
			have.WriteString(" AND (score < ? OR score = ? AND " + newerKey + ")")
			haveArgs = append(haveArgs, k.Score, k.Score, k.CreatedAt, k.CreatedAt, k.RoomID, k.RoomID, k.Seq)
		}
	} else if k := spec.From; k != nil {
		w.WriteString(" AND " + newerKey)
		args = append(args, k.CreatedAt, k.CreatedAt, k.RoomID, k.RoomID, k.Seq)
	}
	q := "SELECT t.created_at, t.room_id, t.seq, CAST(SUM(t.weight) AS SIGNED) AS score FROM message_terms t WHERE " + w.String() +
		" GROUP BY t.created_at, t.room_id, t.seq HAVING " + have.String() + " ORDER BY " + order + " LIMIT ?"
	return q, append(append(args, haveArgs...), spec.Limit)
}

// newerKey is true for the rows after a key in newest-first order.
const newerKey = "(t.created_at < ? OR t.created_at = ? AND (t.room_id < ? OR t.room_id = ? AND t.seq < ?))"

// lookupSQL is a lookup as a condition on a term row.
func lookupSQL(l search.Lookup) (string, []any) {
	if l.Prefix {
		return "(t.term >= ? AND t.term < ?)", []any{[]byte(l.Term), []byte(search.PrefixEnd(l.Term))}
	}
	return "(t.term = ?)", []any{[]byte(l.Term)}
}

// loadCandidates fills in the candidates' messages, room by room.
func (s *Store) loadCandidates(ctx context.Context, viewer int64, cs []chat.SearchCandidate) error {
	seqs := map[int64][]int64{}
	for _, c := range cs {
		seqs[c.Key.RoomID] = append(seqs[c.Key.RoomID], c.Key.Seq)
	}
	type at struct{ room, seq int64 }
	found := map[at]chat.Message{}
	for room, ss := range seqs {
		rows, err := s.q.ListMessagesAt(ctx, db.ListMessagesAtParams{RoomID: room, Seqs: ss})
		if err != nil {
			return domainError(err)
		}
		msgs := make([]chat.Message, len(rows))
		for i, r := range rows {
			msgs[i] = toMessage(r.Message, r.User)
		}
		if err := s.complete(ctx, room, viewer, msgs, true); err != nil {
			return err
		}
		for _, m := range msgs {
			found[at{m.RoomID, m.Seq}] = m
		}
	}
	for i := range cs {
		cs[i].Message = found[at{cs[i].Key.RoomID, cs[i].Key.Seq}]
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
