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

func (s *Store) userKey(userID int64) string {
	return s.prefix + userIndex + strconv.FormatInt(userID, 10)
}

// Create stores a new session and indexes it under its user. The two keys
// may live on two Redis Cluster nodes, so this is no atomic step: when it
// fails half-way the login fails, and nobody ever holds a token of the
// session it left.
func (s *Store) Create(ctx context.Context, sessionID string, userID int64, refreshHash string, ttl time.Duration) error {
	key := s.prefix + sessionID
	cmds := rueidis.Commands{
		s.rdb.B().Sadd().Key(s.userKey(userID)).Member(sessionID).Build(),
		s.rdb.B().Pexpire().Key(s.userKey(userID)).Milliseconds(ttl.Milliseconds()).Build(),
		s.rdb.B().Hset().Key(key).FieldValue().FieldValue("uid", strconv.FormatInt(userID, 10)).FieldValue("refresh", refreshHash).Build(),
		s.rdb.B().Pexpire().Key(key).Milliseconds(ttl.Milliseconds()).Build(),
	}
	return unavailable(firstErr(s.rdb.DoMulti(ctx, cmds...)))
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
	}
	return uid, unavailable(err)
}

// UserOf returns the session's user.
func (s *Store) UserOf(ctx context.Context, sessionID string) (int64, error) {
	uid, err := s.rdb.Do(ctx, s.rdb.B().Hget().Key(s.prefix+sessionID).Field("uid").Build()).AsInt64()
	if rueidis.IsRedisNil(err) {
		return 0, auth.ErrBadToken
	}
	return uid, unavailable(err)
}

// Delete ends a session.
func (s *Store) Delete(ctx context.Context, sessionID string) error {
	return unavailable(s.rdb.Do(ctx, s.rdb.B().Del().Key(s.prefix+sessionID).Build()).Error())
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
