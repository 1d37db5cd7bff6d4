// Package ratelimit enforces limits shared by every chatd process, in Redis
// (rueidis).
package ratelimit

import (
	"context"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/chat"
)

var _ chat.Throttle = (*Limiter)(nil)

// Limiter keeps its counters under one key prefix.
type Limiter struct {
	rdb    rueidis.Client
	prefix string
}

// New keeps counters under keys that start with prefix.
func New(rdb rueidis.Client, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix + "limit:"}
}

// Once admits the first call per key per window.
func (l *Limiter) Once(ctx context.Context, key string, window time.Duration) (bool, error) {
	err := l.rdb.Do(ctx, l.rdb.B().Set().Key(l.prefix+key).Value("1").Nx().Px(window).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	return err == nil, err
}
