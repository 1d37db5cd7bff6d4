package app

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/chat"
)

// redisConnTimeout is how long a Redis connection may leave a command or
// rueidis' idle PING (sent every Dialer.KeepAlive, 1 s) unanswered before it
// is closed. A hung Redis then ends the event bus's subscriptions, and
// readiness says so, within a few seconds instead of rueidis' default 10.
const redisConnTimeout = 3 * time.Second

// openRedis connects to Redis with every command bounded by timeout.
func openRedis(url string, timeout time.Duration) (rueidis.Client, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("PARLEY_REDIS_URL: %w", err)
	}
	if opt.ConnWriteTimeout == 0 { // the URL's write_timeout wins
		opt.ConnWriteTimeout = redisConnTimeout
	}
	// rueidis retries a read-only command on a broken connection until the
	// context ends, and a subscription forever: a read then waits out the
	// whole outage, and the event feed never learns it lost its
	// subscription. Every Redis use has its answer for an outage (trust the
	// signed token, skip the rate limit, answer unavailable, resubscribe and
	// catch up from MySQL), so failing at once is better.
	opt.DisableRetry = true
	rdb, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Redis at %s (%w); start it (e.g. `redis-server --daemonize yes`) or set PARLEY_REDIS_URL", redactURL(url), err)
	}
	return deadlineClient{Client: rdb, timeout: timeout}, nil
}

// deadlineClient gives every Redis command a deadline, in one place for
// sessions, presence, rate limits and the event bus: without one, a command
// sent while Redis is down or hung waits for as long as the caller's
// context lets it, which for most requests is forever. A failure that is not
// Redis' own answer (a timeout, a refused or broken connection) becomes
// chat.ErrUnavailable, the one way every adapter says "the service is down".
//
// Subscriptions are left alone: the event bus holds its connections with
// Dedicate (and its commands with them), which live until their context
// ends; a hung Redis closes them after redisConnTimeout, and the bus
// resubscribes. So is the stream form, which Parley does not use and whose
// results are read after the call returns.
type deadlineClient struct {
	rueidis.Client
	timeout time.Duration
}

// Do runs one command within the deadline.
func (c deadlineClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.down(ctx, c.Client.Do(dctx, cmd))
}

// DoMulti runs a pipeline within one deadline.
func (c deadlineClient) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.downAll(ctx, c.Client.DoMulti(dctx, multi...))
}

// DoCache runs one cacheable command within the deadline.
func (c deadlineClient) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.down(ctx, c.Client.DoCache(dctx, cmd, ttl))
}

// DoMultiCache runs cacheable commands within one deadline.
func (c deadlineClient) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.downAll(ctx, c.Client.DoMultiCache(dctx, multi...))
}

// down turns a result that Redis did not give into unavailable, unless the
// caller's own context ended (the client went away: that stays as it is).
func (c deadlineClient) down(ctx context.Context, r rueidis.RedisResult) rueidis.RedisResult {
	err := r.NonRedisError()
	if err == nil || ctx.Err() != nil {
		return r
	}
	return rueidis.NewErrorResult(chat.Unavailable("Redis", err))
}

func (c deadlineClient) downAll(ctx context.Context, rs []rueidis.RedisResult) []rueidis.RedisResult {
	for i, r := range rs {
		rs[i] = c.down(ctx, r)
	}
	return rs
}
