package chat

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/search"
)

// SearchOrder is how hits are ordered.
type SearchOrder uint8

const (
	// SearchNewest orders hits newest first.
	SearchNewest SearchOrder = iota
	// SearchRelevance orders the best matches first, newest first among
	// equals.
	SearchRelevance
)

// Search limits.
const (
	// DefaultSearchHits is a page's size when the request names none.
	DefaultSearchHits = 20
	// MaxSearchHits bounds a page.
	MaxSearchHits = 100
	// searchRounds bounds the candidate pages one request verifies, so a
	// query whose index lookups match far more than its text cannot make
	// one request read the whole index; the page then ends early, with a
	// token to go on.
	searchRounds = 8
	// relevanceWindow is how many of each driving term's newest rows a
	// search by relevance ranks at first; parts common alone and seldom
	// together may leave fewer candidates than a page, and the first page
	// then widens it fourfold at a time up to maxRelevanceWindow. Later
	// pages keep the first page's window (it travels in the token), so
	// the pages are one order.
	relevanceWindow    = 1000
	maxRelevanceWindow = 16 * relevanceWindow
)

// SearchRequest is what SearchMessages looks for.
type SearchRequest struct {
	Query string
	// RoomID limits the search to one room, FromUserID to one sender; 0
	// for any.
	RoomID, FromUserID int64
	// After and Before bound the messages' times; zero for no bound.
	After, Before time.Time
	Limit         int
	PageToken     string
	Order         SearchOrder
}

// SearchHit is a message found, with its room and the matched parts.
type SearchHit struct {
	Message    Message
	Room       Room
	Highlights []search.Range
}

// SearchKey is a candidate's place in the order: Score (relevance only),
// then newest first, ties by room and seq.
type SearchKey struct {
	Score     int64
	CreatedAt time.Time
	RoomID    int64
	Seq       int64
}

// SearchSpec is one page of index candidates: the messages of the user's
// rooms (or RoomID) having every lookup, after the key From when set.
type SearchSpec struct {
	UserID, RoomID, FromUserID int64
	After, Before              time.Time
	Lookups                    []search.Lookup
	Order                      SearchOrder
	From                       *SearchKey
	Limit                      int
	// Window is, by relevance, how many of each driving term's newest rows
	// in scope are ranked (relevanceWindow and up).
	Window int
}

// SearchPage is a page of candidates. Wider tells, by relevance, that a
// driving term has rows in scope beyond the spec's Window, so a wider one
// could rank more; when it is false, widening would read the same rows.
type SearchPage struct {
	Candidates []SearchCandidate
	Wider      bool
}

// SearchCandidate is a message the index lookups matched, in its current
// state, with its place in the order.
type SearchCandidate struct {
	Key     SearchKey
	Message Message
}

// SearchMessages finds messages of the rooms the user is a member of now
// (or of RoomID, which they must be a member of) that contain every part
// of the query. The index narrows the candidates; each is then matched on
// its body (search.Match), so a CJK query's bigrams found apart, or a
// word cut to the index's term length, never make a false hit.
func (s *Service) SearchMessages(ctx context.Context, userID int64, r SearchRequest) ([]SearchHit, string, error) {
	q, err := search.Parse(r.Query)
	if err != nil {
		return nil, "", Errorf(ErrInvalid, "%s", err.Error())
	}
	if r.RoomID != 0 {
		// Only members search a room; to anyone else it does not exist,
		// public or not.
		if _, err := s.store.Role(ctx, r.RoomID, userID); errors.Is(err, ErrNotFound) {
			return nil, "", notFound(r.RoomID)
		} else if err != nil {
			return nil, "", err
		}
	}
	limit := r.Limit
	if limit <= 0 {
		limit = DefaultSearchHits
	}
	limit = min(limit, MaxSearchHits)
	from, window, err := decodeSearchToken(r)
	if err != nil {
		return nil, "", err
	}
	spec := SearchSpec{UserID: userID, RoomID: r.RoomID, FromUserID: r.FromUserID, After: r.After, Before: r.Before,
		Lookups: q.Lookups, Order: r.Order, From: from, Limit: limit + 1, Window: window}
	if spec.Window == 0 {
		spec.Window = relevanceWindow
	}
	hits, last, err := s.verifiedHits(ctx, &spec, q, limit)
	if err != nil || last == nil {
		return hits, "", err
	}
	return hits, encodeSearchToken(r, *last, spec.Window), nil
}

// verifiedHits gathers up to limit hits page by page of candidates. It
// returns the key to go on from when more may follow: the last hit's when
// a hit beyond limit was seen, the last candidate's when the rounds ran
// out.
func (s *Service) verifiedHits(ctx context.Context, spec *SearchSpec, q search.Query, limit int) ([]SearchHit, *SearchKey, error) {
	hits := []SearchHit{}
	var keys []SearchKey
	rooms := map[int64]Room{}
	for round := 0; round < searchRounds; {
		page, err := s.store.SearchMessages(ctx, *spec)
		if err != nil {
			return nil, nil, err
		}
		cands := page.Candidates
		if widens(spec, page) {
			spec.Window *= 4
			continue
		}
		round++
		more := false
		for _, c := range cands {
			ranges, ok := search.Match(search.Normalize(c.Message.Body), q)
			if !ok || c.Message.Deleted {
				continue
			}
			if len(hits) == limit {
				more = true
				break
			}
			hits = append(hits, SearchHit{Message: c.Message, Highlights: ranges})
			keys = append(keys, c.Key)
		}
		if err := s.hitRooms(ctx, spec.UserID, hits, rooms); err != nil {
			return nil, nil, err
		}
		switch {
		case more:
			return hits, &keys[limit-1], nil
		case len(cands) < spec.Limit:
			return hits, nil, nil
		}
		spec.From = &cands[len(cands)-1].Key
	}
	return hits, spec.From, nil
}

// widens tells whether a first page by relevance should rank a wider
// window (see relevanceWindow): it found less than a page, and the store
// says a wider window holds more rows.
func widens(spec *SearchSpec, page SearchPage) bool {
	return spec.Order == SearchRelevance && spec.From == nil && page.Wider &&
		len(page.Candidates) < spec.Limit && spec.Window < maxRelevanceWindow
}

// hitRooms fills in the hits' rooms as the member sees them, loading those
// not loaded yet in one call.
func (s *Service) hitRooms(ctx context.Context, userID int64, hits []SearchHit, rooms map[int64]Room) error {
	var ids []int64
	for _, h := range hits {
		if _, ok := rooms[h.Message.RoomID]; !ok && !slices.Contains(ids, h.Message.RoomID) {
			ids = append(ids, h.Message.RoomID)
		}
	}
	loaded, _, err := s.store.RoomsFor(ctx, userID, ids)
	if err != nil {
		return err
	}
	for _, r := range loaded {
		rooms[r.ID] = r
	}
	for i := range hits {
		hits[i].Room = rooms[hits[i].Message.RoomID]
	}
	return nil
}
