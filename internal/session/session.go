// Package session keeps login sessions in Redis (rueidis), so every chatd
// process sees a logout at once. Each request reads its session from Redis:
// a client-side cache would be faster, but its invalidation arrives
// asynchronously, and a logged-out token must be refused from the next call.
//
// No script or transaction spans two keys: a session and its user's index
// may hash to different Redis Cluster slots, so the steps that touch both
// are ordered to be safe when one of them fails.
package session

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

var _ auth.Sessions = (*Store)(nil)

// Store is the Redis adapter for auth.Sessions.
type Store struct {
	rdb    rueidis.Client
	prefix string
}

// New keeps sessions under keys that start with prefix.
func New(rdb rueidis.Client, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix + "session:"}
}

// rotate swaps the refresh hash only when the presented one is current, so
// each refresh token works once even when two refreshes race. A session
// that exists but was shown another hash is ended in the same step, so no
// request can slip in between detection and revocation: it answers the
// user id, negated when the session was ended (false: no such session).
// It touches the session's own key only: on Redis Cluster the user's index
// lives in another slot, and a script may only use the keys it is given.
var rotate = rueidis.NewLuaScript(`
local s = redis.call('HMGET', KEYS[1], 'refresh', 'uid')
if not s[1] then return false end
local uid = tonumber(s[2])
if s[1] ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  return -uid
end
redis.call('HSET', KEYS[1], 'refresh', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return uid
`)

// userIndex prefixes the set of a user's session ids.
const userIndex = "user:"

// Fields of a session's hash; times are Unix milliseconds.
const (
	fieldUser      = "uid"
	fieldRefresh   = "refresh"
	fieldCreated   = "created"
	fieldSeen      = "seen"
	fieldUserAgent = "ua"
	fieldAddress   = "addr"
)

// SeenEvery is how stale a session's last-seen time may grow before an
// authentication writes it again: a write per call would double the Redis
// load of every request for a figure people read to the minute.
const SeenEvery = time.Minute

func (s *Store) userKey(userID int64) string {
	return s.prefix + userIndex + strconv.FormatInt(userID, 10)
}

// Create stores a new session and indexes it under its user. The two keys
// may live on two Redis Cluster nodes, so this is no atomic step: when it
// fails half-way the login fails, and nobody ever holds a token of the
// session it left.
func (s *Store) Create(ctx context.Context, userID int64, info auth.SessionInfo, refreshHash string, ttl time.Duration) error {
	key := s.prefix + info.ID
	cmds := append(s.index(userID, info.ID, ttl),
		s.rdb.B().Hset().Key(key).FieldValue().
			FieldValue(fieldUser, strconv.FormatInt(userID, 10)).FieldValue(fieldRefresh, refreshHash).
			FieldValue(fieldCreated, millis(info.CreatedAt)).FieldValue(fieldSeen, millis(info.LastSeenAt)).
			FieldValue(fieldUserAgent, info.UserAgent).FieldValue(fieldAddress, info.Address).Build(),
		s.rdb.B().Pexpire().Key(key).Milliseconds(ttl.Milliseconds()).Build(),
	)
	return unavailable(firstErr(s.rdb.DoMulti(ctx, cmds...)))
}

// index adds the session to its user's index and makes the index live as
// long as the session, the longest-lived of the user's.
func (s *Store) index(userID int64, sessionID string, ttl time.Duration) rueidis.Commands {
	return rueidis.Commands{
		s.rdb.B().Sadd().Key(s.userKey(userID)).Member(sessionID).Build(),
		s.rdb.B().Pexpire().Key(s.userKey(userID)).Milliseconds(ttl.Milliseconds()).Build(),
	}
}

// Rotate replaces the refresh hash if oldHash is current, and ends the
// session when it is not (auth.ErrRefreshReplayed, with the session's user,
// whose live connections are to be closed).
func (s *Store) Rotate(ctx context.Context, sessionID, oldHash, newHash string, ttl time.Duration) (int64, error) {
	uid, err := rotate.Exec(ctx, s.rdb, []string{s.prefix + sessionID},
		[]string{oldHash, newHash, strconv.FormatInt(ttl.Milliseconds(), 10)}).AsInt64()
	switch {
	case rueidis.IsRedisNil(err):
		return 0, auth.ErrBadToken
	case err == nil && uid < 0:
		// The session is gone; an index entry left by a failure here would
		// only make a later EndOthers delete a key that no longer exists.
		_ = s.rdb.Do(ctx, s.rdb.B().Srem().Key(s.userKey(-uid)).Member(sessionID).Build()).Error()
		return -uid, auth.ErrRefreshReplayed
	case err != nil:
		return 0, unavailable(err)
	}
	// The session now outlives the index's expiry set at login; without
	// this, a session refreshed for longer than RefreshTTL would drop out
	// of its user's list and escape EndOthers. The rotation stands if this
	// fails: refusing it would leave the client a spent refresh token.
	_ = firstErr(s.rdb.DoMulti(ctx, s.index(uid, sessionID, ttl)...))
	return uid, nil
}

// UserOf returns the session's user, and writes its last-seen time when
// that is SeenEvery old: one read per call, a write at most once a minute.
func (s *Store) UserOf(ctx context.Context, sessionID string, now time.Time) (int64, error) {
	key := s.prefix + sessionID
	vals, err := s.rdb.Do(ctx, s.rdb.B().Hmget().Key(key).Field(fieldUser, fieldSeen).Build()).ToArray()
	if err != nil {
		return 0, unavailable(err)
	}
	uid, err := vals[0].AsInt64()
	switch {
	case rueidis.IsRedisNil(err):
		return 0, auth.ErrBadToken
	case err != nil:
		return 0, unavailable(err)
	}
	if seen, err := vals[1].AsInt64(); err != nil || now.Sub(time.UnixMilli(seen)) >= SeenEvery {
		// Best effort: a failed write leaves the time a minute staler, and
		// the call it rode on should not fail for that.
		_ = touch.Exec(ctx, s.rdb, []string{key}, []string{millis(now)}).Error()
	}
	return uid, nil
}

// touch sets the last-seen time of a session that still exists: a plain
// HSET racing an End would bring the key back, without expiry.
var touch = rueidis.NewLuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'seen', ARGV[1])
end
return 0
`)

// endOwn deletes a session only if it belongs to the user in ARGV[1].
var endOwn = rueidis.NewLuaScript(`
if redis.call('HGET', KEYS[1], 'uid') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

// End ends the session if it is the user's; another user's is left as it
// is. The index entry goes after the session, as in EndOthers.
func (s *Store) End(ctx context.Context, userID int64, sessionID string) (bool, error) {
	uid := strconv.FormatInt(userID, 10)
	n, err := endOwn.Exec(ctx, s.rdb, []string{s.prefix + sessionID}, []string{uid}).AsInt64()
	if err != nil {
		return false, unavailable(err)
	}
	// A failure leaves an entry of a gone key, which List drops.
	_ = s.rdb.Do(ctx, s.rdb.B().Srem().Key(s.userKey(userID)).Member(sessionID).Build()).Error()
	return n == 1, nil
}

// EndOthers ends every session of the user except keep. The sessions may
// live on other Redis Cluster nodes than the user's index, so they are
// deleted first and leave the index after: a failure half-way leaves every
// surviving session indexed, for the next call to end.
func (s *Store) EndOthers(ctx context.Context, userID int64, keep string) ([]string, error) {
	sids, err := s.rdb.Do(ctx, s.rdb.B().Smembers().Key(s.userKey(userID)).Build()).AsStrSlice()
	if err != nil {
		return nil, unavailable(err)
	}
	ended := slices.DeleteFunc(sids, func(sid string) bool { return sid == keep })
	if len(ended) == 0 {
		return ended, nil
	}
	dels := make(rueidis.Commands, len(ended))
	for i, sid := range ended {
		dels[i] = s.rdb.B().Del().Key(s.prefix + sid).Build()
	}
	if err := firstErr(s.rdb.DoMulti(ctx, dels...)); err != nil {
		return nil, unavailable(err)
	}
	// They are ended: an entry the SREM fails to remove is a key that is
	// gone, as in Rotate.
	_ = s.rdb.Do(ctx, s.rdb.B().Srem().Key(s.userKey(userID)).Member(ended...).Build()).Error()
	return ended, nil
}

// List returns the user's live sessions. Index entries whose session has
// expired or ended are dropped on the way. One racing a login (index
// written, session not yet) may be dropped too; the session's next Rotate
// puts it back.
func (s *Store) List(ctx context.Context, userID int64) ([]auth.SessionInfo, error) {
	sids, err := s.rdb.Do(ctx, s.rdb.B().Smembers().Key(s.userKey(userID)).Build()).AsStrSlice()
	if err != nil {
		return nil, unavailable(err)
	}
	gets := make(rueidis.Commands, len(sids))
	for i, sid := range sids {
		gets[i] = s.rdb.B().Hmget().Key(s.prefix+sid).Field(fieldUser, fieldCreated, fieldSeen, fieldUserAgent, fieldAddress).Build()
	}
	live := []auth.SessionInfo{}
	var gone []string
	uid := strconv.FormatInt(userID, 10)
	for i, r := range s.rdb.DoMulti(ctx, gets...) {
		v, err := r.ToArray()
		if err != nil {
			return nil, unavailable(err)
		}
		if owner, _ := v[0].ToString(); owner != uid {
			gone = append(gone, sids[i])
			continue
		}
		live = append(live, sessionInfo(sids[i], v[1:]))
	}
	if len(gone) > 0 {
		_ = s.rdb.Do(ctx, s.rdb.B().Srem().Key(s.userKey(userID)).Member(gone...).Build()).Error()
	}
	return live, nil
}

// sessionInfo reads the created, seen, user-agent and address fields of a
// session, in that order; a session from before they were kept has only
// its id.
func sessionInfo(id string, v []rueidis.RedisMessage) auth.SessionInfo {
	at := func(m rueidis.RedisMessage) time.Time {
		if ms, err := m.AsInt64(); err == nil {
			return time.UnixMilli(ms).UTC()
		}
		return time.Time{}
	}
	ua, _ := v[2].ToString()
	addr, _ := v[3].ToString()
	return auth.SessionInfo{ID: id, CreatedAt: at(v[0]), LastSeenAt: at(v[1]), UserAgent: ua, Address: addr}
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func firstErr(results []rueidis.RedisResult) error {
	for _, r := range results {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}

// unavailable marks a Redis failure so callers answer "unavailable", not
// "internal".
func unavailable(err error) error { return chat.Unavailable("Redis", err) }
