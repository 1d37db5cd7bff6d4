package auth

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// memUsers matches logins exactly (the store's collation is MySQL's; the
// integration tests cover it).
type memUsers struct {
	mu     sync.Mutex
	users  []chat.User
	hashes map[int64]string
}

func (m *memUsers) CreateUser(_ context.Context, u chat.User, hash string) (chat.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u.ID = int64(len(m.users) + 1)
	m.users = append(m.users, u)
	if m.hashes == nil {
		m.hashes = map[int64]string{}
	}
	m.hashes[u.ID] = hash
	return u, nil
}

func (m *memUsers) UserByLogin(_ context.Context, login string) (chat.User, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.users {
		if u.Username == login || u.Email == login {
			return u, m.hashes[u.ID], nil
		}
	}
	return chat.User{}, "", chat.ErrNotFound
}

func (m *memUsers) User(_ context.Context, id int64) (chat.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.users[id-1], nil
}

func (m *memUsers) PasswordHash(_ context.Context, id int64) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hashes[id], nil
}

func (m *memUsers) SetPasswordHash(_ context.Context, id int64, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hashes[id] = hash
	return nil
}

// memSessions keeps sessions in a map; Rotate answers what the script in
// internal/session does.
type memSessions struct {
	mu       sync.Mutex
	sessions map[string]memSession
}

type memSession struct {
	uid     int64
	refresh string
	info    SessionInfo
}

func (m *memSessions) Create(_ context.Context, uid int64, info SessionInfo, hash string, _ time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions == nil {
		m.sessions = map[string]memSession{}
	}
	m.sessions[info.ID] = memSession{uid, hash, info}
	return nil
}

func (m *memSessions) Rotate(_ context.Context, sid, oldHash, newHash string, _ time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[sid]
	switch {
	case !ok:
		return 0, ErrBadToken
	case s.refresh != oldHash:
		delete(m.sessions, sid)
		return s.uid, ErrRefreshReplayed
	}
	s.refresh = newHash
	m.sessions[sid] = s
	return s.uid, nil
}

func (m *memSessions) UserOf(_ context.Context, sid string, now time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[sid]
	if !ok {
		return 0, ErrBadToken
	}
	s.info.LastSeenAt = now
	m.sessions[sid] = s
	return s.uid, nil
}

func (m *memSessions) End(_ context.Context, uid int64, sid string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sessions[sid]; !ok || s.uid != uid {
		return false, nil
	}
	delete(m.sessions, sid)
	return true, nil
}

func (m *memSessions) EndOthers(context.Context, int64, string) ([]string, error) { return nil, nil }

func (m *memSessions) List(_ context.Context, uid int64) ([]SessionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SessionInfo
	for _, s := range m.sessions {
		if s.uid == uid {
			out = append(out, s.info)
		}
	}
	return out, nil
}

// endedSessions records what SessionEnded was told.
type endedSessions struct {
	mu  sync.Mutex
	ids []string
}

func (e *endedSessions) SessionEnded(_ context.Context, _ int64, sid string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ids = append(e.ids, sid)
	return nil
}

// memGuard allows limit attempts per counter, like ratelimit.Passwords
// with a window longer than any test.
type memGuard struct {
	limit  int
	mu     sync.Mutex
	counts map[string]int
}

func (g *memGuard) keys(a Attempt) []string {
	if a.Kind == PasswordChangeAttempt {
		return []string{"change:" + a.Account}
	}
	return []string{"acct:" + a.Account + "@" + a.Addr, "ip:" + a.Addr}
}

func (g *memGuard) Reserve(_ context.Context, a Attempt) (time.Duration, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.counts == nil {
		g.counts = map[string]int{}
	}
	for _, k := range g.keys(a) {
		if g.counts[k] >= g.limit {
			return time.Minute, nil
		}
	}
	for _, k := range g.keys(a) {
		g.counts[k]++
	}
	return 0, nil
}

func (g *memGuard) Succeeded(_ context.Context, a Attempt) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	keys := g.keys(a)
	delete(g.counts, keys[0])
	for _, k := range keys[1:] {
		g.counts[k]--
	}
	return nil
}

func (g *memGuard) Release(_ context.Context, a Attempt) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range g.keys(a) {
		g.counts[k]--
	}
	return nil
}

func (g *memGuard) count(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.counts[key]
}

// countingHasher counts the password checks that reach argon2id.
type countingHasher struct {
	passwordHasher
	verified atomic.Int32
}

func (c *countingHasher) verify(ctx context.Context, password, hash string) (bool, error) {
	c.verified.Add(1)
	return c.passwordHasher.verify(ctx, password, hash)
}

// testService is a Service on the fakes above, with a limit of limit
// attempts per counter, and user "victim" (password "password-victim").
type testService struct {
	*Service
	guard  *memGuard
	hashes *countingHasher
	ended  *endedSessions
	victim chat.User
}

func newTestService(tb testing.TB, limit int) *testService {
	tb.Helper()
	ts := &testService{guard: &memGuard{limit: limit}, ended: &endedSessions{}}
	s, err := NewService(&memUsers{}, &memSessions{}, ts.ended, ts.guard, []byte(strings.Repeat("k", 32)))
	if err != nil {
		tb.Fatal(err)
	}
	ts.hashes = &countingHasher{passwordHasher: s.hasher}
	s.hasher = ts.hashes
	ts.Service = s
	if ts.victim, err = s.Register(context.Background(), "victim", "victim@example.com", "password-victim"); err != nil {
		tb.Fatal(err)
	}
	return ts
}

// login logs victim in and returns the session's principal and tokens.
func (ts *testService) login(tb testing.TB) (Principal, Tokens) {
	tb.Helper()
	return ts.loginWith(tb, context.Background())
}

// loginWith logs victim in with ctx, which may name the client.
func (ts *testService) loginWith(tb testing.TB, ctx context.Context) (Principal, Tokens) {
	tb.Helper()
	_, tokens, err := ts.Login(ctx, "victim", "password-victim")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := ts.signer.parse(tokens.Access)
	if err != nil {
		tb.Fatal(err)
	}
	return p, tokens
}
