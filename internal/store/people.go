package store

import (
	"context"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Relation is how from stands to to; ErrNotFound when to is no user.
func (s *Store) Relation(ctx context.Context, from, to int64) (chat.Relation, error) {
	return relation(ctx, s.q, from, to)
}

// relation is Relation read through q, which may be a transaction's.
func relation(ctx context.Context, q *db.Queries, from, to int64) (chat.Relation, error) {
	r, err := q.GetRelation(ctx, db.GetRelationParams{FromID: from, ToID: to})
	if err != nil {
		return chat.Relation{}, notFound(err, "user %d not found", to)
	}
	return chat.Relation{Blocks: r.Blocks, BlockedBy: r.BlockedBy, Friends: r.Friends, Policy: chat.DmPolicy(r.DmPolicy)}, nil
}
