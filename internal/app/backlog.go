package app

import (
	"context"
	"log/slog"
	"time"
)

// Working off the search backlog: messages stored before the search index
// existed are indexed in small transactions, so sends and edits wait on
// their locks briefly, with a pause after a failure (MySQL busy or away).
const (
	backlogBatch = 500
	backlogRetry = 10 * time.Second
)

// Backlog indexes old messages; store.Store fills it.
type Backlog interface {
	IndexBacklog(ctx context.Context, n int) (left bool, err error)
}

// indexBacklog runs until the backlog is empty or ctx ends.
func indexBacklog(ctx context.Context, b Backlog, log *slog.Logger) {
	batches := 0
	for ctx.Err() == nil {
		left, err := b.IndexBacklog(ctx, backlogBatch)
		if err != nil {
			log.WarnContext(ctx, "indexing old messages for search; trying again", "err", err, "retry_in", backlogRetry)
			select {
			case <-ctx.Done():
			case <-time.After(backlogRetry):
			}
			continue
		}
		batches++
		if !left {
			if batches > 1 {
				log.InfoContext(ctx, "old messages indexed for search", "batches", batches)
			}
			return
		}
	}
}
