// Package presence counts each user's live connections across every chatd
// process in Redis (rueidis). Connections carry an expiry that their process
// renews; a crashed process's connections expire and are swept by the others.
// What the rooms were last told is kept too, so quick reconnects publish
// nothing (debounce).
//
// Users are spread over a fixed number of groups, each with its own list of
// every connection, and a user's keys carry the group's hash tag: the
// scripts then touch one Redis Cluster slot each, and the sweep walks the
// groups.
package presence

import (
	"cmp"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/chat"
)

// Timing of the heartbeat that keeps connections alive in Redis.
const (
	// TTL is how long a connection counts without a heartbeat: a crashed
	// process's users go offline within TTL plus one SweepEvery.
	TTL = 45 * time.Second
	// HeartbeatEvery renews a process's connections well before TTL.
	HeartbeatEvery = 15 * time.Second
	// SweepEvery is how often each process looks for expired connections.
	SweepEvery = 10 * time.Second
	// sweepBatch bounds how many expired connections one sweep takes from
	// each group.
	sweepBatch = 200
	// groups is how many groups users are spread over: enough to spread
	// them over the masters of a cluster. Changing it moves every key.
	groups = 16
)

var _ chat.Presence = (*Tracker)(nil)

// Tracker is the Redis adapter for presence.
type Tracker struct {
	rdb    rueidis.Client
	prefix string
	now    func() time.Time
}

// New keeps presence under keys that start with prefix.
func New(rdb rueidis.Client, prefix string) *Tracker {
	return &Tracker{rdb: rdb, prefix: prefix + "presence:", now: time.Now}
}

// groupOf is the group of a user's keys.
func groupOf(uid int64) int64 { return (uid%groups + groups) % groups }

// groupPrefix starts the group's keys with a hash tag, which puts them in
// one cluster slot.
func (t *Tracker) groupPrefix(group int64) string {
	return t.prefix + "{g" + strconv.FormatInt(group, 10) + "}:"
}

func (t *Tracker) userKey(uid int64) string {
	return t.groupPrefix(groupOf(uid)) + "u:" + strconv.FormatInt(uid, 10)
}

func (t *Tracker) pubKey(uid int64) string {
	return t.groupPrefix(groupOf(uid)) + "p:" + strconv.FormatInt(uid, 10)
}

// allKey lists every live connection of a group's users.
func (t *Tracker) allKey(group int64) string { return t.groupPrefix(group) + "all" }

func (t *Tracker) nowMs() string { return strconv.FormatInt(t.now().UnixMilli(), 10) }

// tryAdd adds a connection (ARGV[4] in KEYS[1], ARGV[5] in KEYS[2], both
// expiring at ARGV[2]) unless the user already has ARGV[3] connections alive
// at ARGV[1]. One script, so processes that open a user's connections at
// the same moment cannot all count below the cap before any of them adds.
var tryAdd = rueidis.NewLuaScript(`
if redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf') >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[5])
return 1
`)

// TryAdd counts a new connection of the user unless the user already has
// limit live connections on all processes; it reports whether it did.
func (t *Tracker) TryAdd(ctx context.Context, uid int64, connID string, limit int) (bool, error) {
	n, err := tryAdd.Exec(ctx, t.rdb, []string{t.userKey(uid), t.allKey(groupOf(uid))}, []string{
		t.nowMs(), strconv.FormatInt(t.now().Add(TTL).UnixMilli(), 10), strconv.Itoa(limit), connID, member(uid, connID),
	}).AsInt64()
	return n == 1, err
}

// Remove forgets a closed connection.
func (t *Tracker) Remove(ctx context.Context, uid int64, connID string) error {
	cmds := rueidis.Commands{
		t.rdb.B().Zrem().Key(t.userKey(uid)).Member(connID).Build(),
		t.rdb.B().Zrem().Key(t.allKey(groupOf(uid))).Member(member(uid, connID)).Build(),
	}
	return firstErr(t.rdb.DoMulti(ctx, cmds...))
}

// Conn names one live connection for Heartbeat.
type Conn struct {
	UserID int64
	ID     string
}

// Heartbeat renews the expiry of a process's live connections.
func (t *Tracker) Heartbeat(ctx context.Context, conns []Conn) error {
	if len(conns) == 0 {
		return nil
	}
	exp := float64(t.now().Add(TTL).UnixMilli())
	cmds := make(rueidis.Commands, 0, 2*len(conns))
	for _, c := range conns {
		cmds = append(cmds,
			t.rdb.B().Zadd().Key(t.userKey(c.UserID)).ScoreMember().ScoreMember(exp, c.ID).Build(),
			t.rdb.B().Zadd().Key(t.allKey(groupOf(c.UserID))).ScoreMember().ScoreMember(exp, member(c.UserID, c.ID)).Build())
	}
	return firstErr(t.rdb.DoMulti(ctx, cmds...))
}

// settle compares the user's live state with what was last published and
// records the new state, returning 1/0 when it changed and -1 when not.
var settle = rueidis.NewLuaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local online = redis.call('ZCARD', KEYS[1]) > 0 and '1' or '0'
local last = redis.call('GET', KEYS[2]) or '0'
if online == last then return -1 end
redis.call('SET', KEYS[2], online, 'PX', ARGV[2])
return tonumber(online)
`)

// Settle reports whether the user's online state differs from what the
// rooms were last told, and records it as told.
func (t *Tracker) Settle(ctx context.Context, uid int64) (changed, online bool, err error) {
	n, err := settle.Exec(ctx, t.rdb, []string{t.userKey(uid), t.pubKey(uid)},
		[]string{t.nowMs(), strconv.FormatInt((24 * time.Hour).Milliseconds(), 10)}).AsInt64()
	if err != nil {
		return false, false, err
	}
	return n >= 0, n == 1, nil
}

// sweep removes up to ARGV[2] expired connections from a group's list
// atomically, so exactly one process handles each, and returns them. Their
// entries under the user expire on their own: Settle removes them, and
// nothing counts an expired entry before.
var sweep = rueidis.NewLuaScript(`
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #expired > 0 then redis.call('ZREM', KEYS[1], unpack(expired)) end
return expired
`)

// Sweep forgets connections whose process stopped renewing them and returns
// the users concerned, for Settle. It asks every group at once (one round
// trip per Redis node); when some groups fail (a node is down), the users
// of the others come with the error, and still need settling.
func (t *Tracker) Sweep(ctx context.Context) ([]int64, error) {
	now, batch := t.nowMs(), strconv.Itoa(sweepBatch)
	execs := make([]rueidis.LuaExec, groups)
	for g := range execs {
		execs[g] = rueidis.LuaExec{Keys: []string{t.allKey(int64(g))}, Args: []string{now, batch}}
	}
	seen := map[int64]bool{}
	var users []int64
	var first error
	for _, r := range sweep.ExecMulti(ctx, t.rdb, execs...) {
		members, err := r.AsStrSlice()
		if err != nil {
			first = cmp.Or(first, err)
			continue
		}
		for _, m := range members {
			uid, _, _ := splitMember(m)
			if uid > 0 && !seen[uid] {
				seen[uid] = true
				users = append(users, uid)
			}
		}
	}
	return users, first
}

// Online tells which of the users have a live connection.
func (t *Tracker) Online(ctx context.Context, uids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(uids))
	if len(uids) == 0 {
		return out, nil
	}
	now := t.nowMs()
	cmds := make(rueidis.Commands, len(uids))
	for i, uid := range uids {
		cmds[i] = t.rdb.B().Zcount().Key(t.userKey(uid)).Min("(" + now).Max("+inf").Build()
	}
	for i, r := range t.rdb.DoMulti(ctx, cmds...) {
		n, err := r.AsInt64()
		if err != nil {
			return nil, err
		}
		out[uids[i]] = n > 0
	}
	return out, nil
}

func member(uid int64, connID string) string { return strconv.FormatInt(uid, 10) + "|" + connID }

func splitMember(m string) (int64, string, bool) {
	uid, conn, ok := strings.Cut(m, "|")
	id, err := strconv.ParseInt(uid, 10, 64)
	return id, conn, ok && err == nil
}

func firstErr(results []rueidis.RedisResult) error {
	for _, r := range results {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}
