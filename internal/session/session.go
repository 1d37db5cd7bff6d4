// Package session keeps login sessions in Redis (rueidis), so every chatd
// process sees a logout at once. Each request reads its session from Redis:
// a client-side cache would be faster, but its invalidation arrives
// asynchronously, and a logged-out token must be refused from the next call.
package session

import (
	"context"
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
// user id negated, the user id otherwise (false: no such session).
var rotate = rueidis.NewLuaScript(`
local current = redis.call('HGET', KEYS[1], 'refresh')
if not current then return false end
if current ~= ARGV[1] then
  local uid = redis.call('HGET', KEYS[1], 'uid')
  redis.call('DEL', KEYS[1])
  redis.call('SREM', ARGV[4] .. uid, ARGV[5])
  return -tonumber(uid)
end
redis.call('HSET', KEYS[1], 'refresh', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tonumber(redis.call('HGET', KEYS[1], 'uid'))
`)

// userIndex prefixes the set of a user's session ids.
const userIndex = "user:"

func (s *Store) userKey(userID int64) string {
	return s.prefix + userIndex + strconv.FormatInt(userID, 10)
}

// Create stores a new session and indexes it under its user.
func (s *Store) Create(ctx context.Context, sessionID string, userID int64, refreshHash string, ttl time.Duration) error {
	key := s.prefix + sessionID
	cmds := rueidis.Commands{
		s.rdb.B().Hset().Key(key).FieldValue().FieldValue("uid", strconv.FormatInt(userID, 10)).FieldValue("refresh", refreshHash).Build(),
		s.rdb.B().Pexpire().Key(key).Milliseconds(ttl.Milliseconds()).Build(),
		s.rdb.B().Sadd().Key(s.userKey(userID)).Member(sessionID).Build(),
		s.rdb.B().Pexpire().Key(s.userKey(userID)).Milliseconds(ttl.Milliseconds()).Build(),
	}
	for _, r := range s.rdb.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// Rotate replaces the refresh hash if oldHash is current, and ends the
// session when it is not (auth.ErrRefreshReplayed).
func (s *Store) Rotate(ctx context.Context, sessionID, oldHash, newHash string, ttl time.Duration) (int64, error) {
	uid, err := rotate.Exec(ctx, s.rdb, []string{s.prefix + sessionID},
		[]string{oldHash, newHash, strconv.FormatInt(ttl.Milliseconds(), 10), s.prefix + userIndex, sessionID}).AsInt64()
	switch {
	case rueidis.IsRedisNil(err):
		return 0, auth.ErrBadToken
	case err == nil && uid < 0:
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

// endOthers deletes every session of the user but ARGV[1] and returns
// their ids.
var endOthers = rueidis.NewLuaScript(`
local ended = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if sid ~= ARGV[1] then
    redis.call('DEL', ARGV[2] .. sid)
    redis.call('SREM', KEYS[1], sid)
    table.insert(ended, sid)
  end
end
return ended
`)

// EndOthers ends every session of the user except keep.
func (s *Store) EndOthers(ctx context.Context, userID int64, keep string) ([]string, error) {
	ended, err := endOthers.Exec(ctx, s.rdb, []string{s.userKey(userID)}, []string{keep, s.prefix}).AsStrSlice()
	return ended, unavailable(err)
}

// unavailable marks a Redis failure so callers answer "unavailable", not
// "internal".
func unavailable(err error) error { return chat.Unavailable("Redis", err) }
