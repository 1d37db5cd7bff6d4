// Package ratelimit enforces limits shared by every chatd process, in Redis
// (rueidis), with the generic cell rate algorithm: one key per limited thing,
// holding the time its bucket is next empty.
package ratelimit

import (
	"context"
	"errors"
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

// Limit is one counter and its rate. Limits taken or refunded together
// share a hash tag in their keys ("login:{addr}:ip"), so that on Redis
// Cluster their counters live in one slot and one script sees them all.
type Limit struct {
	Key  string
	Rate Rate
}

// ErrCrossSlot refuses limits taken together whose keys do not share a
// hash tag: on one Redis they would work, on a cluster never.
var ErrCrossSlot = errors.New("ratelimit: limits taken together need one hash tag in their keys")

// gcra answers how many milliseconds to wait (0: allowed) before one more
// event under every key (KEYS[i] at interval ARGV[2i-1] and tolerance
// ARGV[2i]), and which key (its index, from 1; 0 when allowed) needs that
// wait. It records the event under all of them when all allow it, none
// otherwise: one atomic step, so concurrent callers cannot all pass a check
// that only one of them should. Redis' own clock keeps every process on one
// time line.
var gcra = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local wait, which, tats = 0, 0, {}
for i, key in ipairs(KEYS) do
  local tat = math.max(tonumber(redis.call('GET', key) or now), now)
  local w = tat - tonumber(ARGV[2 * i]) - now
  if w > wait then wait, which = w, i end
  tats[i] = tat + tonumber(ARGV[2 * i - 1])
end
if wait > 0 then return {wait, which} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tats[i], 'PX', tats[i] - now)
end
return {0, 0}
`)

// Take records one event under key and reports how long to wait when it is
// over the rate (the event is then not recorded).
func (l *Limiter) Take(ctx context.Context, key string, r Rate) (time.Duration, error) {
	return l.TakeAll(ctx, Limit{key, r})
}

// TakeAll records one event under every limit, or under none and reports
// the longest wait when any is spent.
func (l *Limiter) TakeAll(ctx context.Context, limits ...Limit) (time.Duration, error) {
	wait, _, err := l.TakeWhich(ctx, limits...)
	return wait, err
}

// TakeWhich is TakeAll that also says which limit is spent: its index in
// limits, -1 when none is. Limits of one call taken together cost one
// round trip, and the caller can still say which was exceeded.
func (l *Limiter) TakeWhich(ctx context.Context, limits ...Limit) (time.Duration, int, error) {
	keys, args, err := l.scriptArgs(limits, true)
	if err != nil {
		return 0, -1, err
	}
	res, err := gcra.Exec(ctx, l.rdb, keys, args).AsIntSlice()
	if err != nil {
		return 0, -1, err
	}
	if len(res) != 2 {
		return 0, -1, fmt.Errorf("ratelimit: the script answered %v", res)
	}
	return time.Duration(res[0]) * time.Millisecond, int(res[1]) - 1, nil
}

// refund gives back one event under KEYS[i] at interval ARGV[i].
var refund = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key))
  if tat then
    tat = tat - tonumber(ARGV[i])
    if tat > now then
      redis.call('SET', key, tat, 'PX', tat - now)
    else
      redis.call('DEL', key)
    end
  end
end
return 0
`)

// Refund gives back one event taken under each limit, e.g. a reserved
// attempt that turned out not to count.
func (l *Limiter) Refund(ctx context.Context, limits ...Limit) error {
	if len(limits) == 0 {
		return nil
	}
	keys, args, err := l.scriptArgs(limits, false)
	if err != nil {
		return err
	}
	return refund.Exec(ctx, l.rdb, keys, args).Error()
}

// scriptArgs lays limits out as the scripts read them: the prefixed keys,
// and each one's interval in milliseconds followed, withTolerance, by how
// far ahead of now its bucket may be (the burst).
func (l *Limiter) scriptArgs(limits []Limit, withTolerance bool) (keys, args []string, err error) {
	for _, lim := range limits {
		interval := lim.Rate.Every.Milliseconds()
		key := l.prefix + lim.Key
		if len(keys) > 0 && hashTag(key) != hashTag(keys[0]) {
			return nil, nil, fmt.Errorf("%w: %q and %q", ErrCrossSlot, keys[0], key)
		}
		keys = append(keys, key)
		args = append(args, strconv.FormatInt(interval, 10))
		if withTolerance {
			args = append(args, strconv.FormatInt(interval*int64(lim.Rate.Burst-1), 10))
		}
	}
	return keys, args, nil
}

// hashTag is the part of key that Redis Cluster hashes: the text between
// the first "{" and the next "}" when it is not empty, else the whole key.
func hashTag(key string) string {
	_, rest, ok := strings.Cut(key, "{")
	if tag, _, closed := strings.Cut(rest, "}"); ok && closed && tag != "" {
		return tag
	}
	return key
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
