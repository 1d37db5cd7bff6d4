// Package ratelimit enforces limits shared by every chatd process, in Redis
// (rueidis), with the generic cell rate algorithm: one key per limited thing,
// holding the time its bucket is next empty.
package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/chat"
)

var _ chat.Throttle = (*Limiter)(nil)

// Rate allows Burst events at once, then one more every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// ParseRate reads "N/duration", N events per duration: a burst of N, then
// one every duration/N (e.g. "5/30m", "10/10s"). Counters keep whole
// milliseconds, so duration/N must be at least one: at most 1,000 events per
// second.
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(s, "/")
	burst, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || burst < 1 {
		return Rate{}, fmt.Errorf("rate %q: want N/duration, a positive count of events per Go duration, such as 10/10s", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: want N/duration with a Go duration such as 10s, 5m or 1h, for example 10/10s", s)
	}
	if d < time.Duration(burst)*minInterval {
		return Rate{}, fmt.Errorf("rate %q: at most 1,000 events per second: the duration must be at least N milliseconds (%s for %d), for example %d/%s",
			s, time.Duration(burst)*minInterval, burst, burst, time.Duration(burst)*minInterval)
	}
	return Rate{Burst: burst, Every: d / time.Duration(burst)}, nil
}

// minInterval is the shortest time between events a Rate may have: the
// counters hold milliseconds, and a shorter interval would round to none.
const minInterval = time.Millisecond

// String formats the rate as ParseRate reads it.
func (r Rate) String() string {
	return fmt.Sprintf("%d/%s", r.Burst, r.Every*time.Duration(r.Burst))
}

// Limiter keeps its counters under one key prefix.
type Limiter struct {
	rdb    rueidis.Client
	prefix string
}

// New keeps counters under keys that start with prefix.
func New(rdb rueidis.Client, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix + "limit:"}
}

// gcra answers how many milliseconds to wait (0: allowed) and records the
// event when allowed and ARGV[3] is 1. Redis' own clock keeps every process
// on one time line.
var gcra = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return wait end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], tat + interval, 'PX', tat + interval - now)
end
return 0
`)

// Take records one event under key and reports how long to wait when it is
// over the rate (the event is then not recorded).
func (l *Limiter) Take(ctx context.Context, key string, r Rate) (time.Duration, error) {
	return l.run(ctx, key, r, true)
}

// Peek reports how long until one more event would be allowed, without
// recording one.
func (l *Limiter) Peek(ctx context.Context, key string, r Rate) (time.Duration, error) {
	return l.run(ctx, key, r, false)
}

func (l *Limiter) run(ctx context.Context, key string, r Rate, take bool) (time.Duration, error) {
	interval := r.Every.Milliseconds()
	tolerance := interval * int64(r.Burst-1)
	flag := "0"
	if take {
		flag = "1"
	}
	wait, err := gcra.Exec(ctx, l.rdb, []string{l.prefix + key},
		[]string{strconv.FormatInt(interval, 10), strconv.FormatInt(tolerance, 10), flag}).AsInt64()
	return time.Duration(wait) * time.Millisecond, err
}

// Reset forgets the events under key, e.g. failed logins after a success.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	return l.rdb.Do(ctx, l.rdb.B().Del().Key(l.prefix+key).Build()).Error()
}

// Once admits the first call per key per window.
func (l *Limiter) Once(ctx context.Context, key string, window time.Duration) (bool, error) {
	err := l.rdb.Do(ctx, l.rdb.B().Set().Key(l.prefix+key).Value("1").Nx().Px(window).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	return err == nil, err
}
