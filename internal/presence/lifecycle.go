package presence

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Timing of a connection's life in presence.
const (
	// Grace debounces offline: a user who reconnects within it causes no
	// presence events at all.
	Grace = 2 * time.Second
	// closeTimeout bounds the Redis work of a closed connection, which no
	// request waits for.
	closeTimeout = 5 * time.Second
)

// Announcer tells a user's rooms that the user came online or went
// offline; chat.Service fills it.
type Announcer interface {
	PresenceChanged(ctx context.Context, userID int64, online bool) error
}

// Lifecycle keeps this process's live connections counted in Redis: it adds
// each under the per-user cap, renews them while they live, forgets them
// when they close, sweeps those of processes that died, and announces each
// change of a user's state to the user's rooms.
type Lifecycle struct {
	tracker  *Tracker
	announce Announcer
	limit    int
	log      *slog.Logger

	mu    sync.Mutex
	conns map[Conn]struct{}
}

// NewLifecycle caps each user at limit live connections across processes.
func NewLifecycle(t *Tracker, a Announcer, limit int, log *slog.Logger) *Lifecycle {
	return &Lifecycle{tracker: t, announce: a, limit: limit, log: log, conns: map[Conn]struct{}{}}
}

// Open counts a new connection of the user, named connID, and announces the
// user online if the rooms were told otherwise. Over the cap it refuses with
// chat.ErrTooManyConns. Counting and adding are one step in Redis, so
// connections opened at once on any number of processes cannot all slip
// under the cap.
func (l *Lifecycle) Open(ctx context.Context, userID int64, connID string) error {
	ok, err := l.tracker.TryAdd(ctx, userID, connID, l.limit)
	if err != nil {
		return chat.Unavailable("Redis (presence)", err)
	}
	if !ok {
		return fmt.Errorf("%w (limit %d)", chat.ErrTooManyConns, l.limit)
	}
	l.mu.Lock()
	l.conns[Conn{UserID: userID, ID: connID}] = struct{}{}
	l.mu.Unlock()
	l.settle(ctx, userID)
	return nil
}

// Close forgets a connection Open counted. The user goes offline after
// Grace unless another connection is live by then.
func (l *Lifecycle) Close(userID int64, connID string) {
	l.mu.Lock()
	delete(l.conns, Conn{UserID: userID, ID: connID})
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := l.tracker.Remove(ctx, userID, connID); err != nil {
		l.log.Warn("presence remove", "user_id", userID, "err", err)
	}
	time.AfterFunc(Grace, func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		l.settle(ctx, userID)
	})
}

// Run keeps presence alive until ctx ends: it renews this process's
// connections and sweeps those of processes that died.
func (l *Lifecycle) Run(ctx context.Context) {
	beat := time.NewTicker(HeartbeatEvery)
	sweep := time.NewTicker(SweepEvery)
	defer beat.Stop()
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if err := l.tracker.Heartbeat(ctx, l.live()); err != nil {
				l.log.Warn("presence heartbeat", "err", err)
			}
		case <-sweep.C:
			l.sweep(ctx)
		}
	}
}

func (l *Lifecycle) live() []Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Collect(maps.Keys(l.conns))
}

func (l *Lifecycle) sweep(ctx context.Context) {
	users, err := l.tracker.Sweep(ctx)
	if err != nil {
		l.log.Warn("presence sweep", "err", err) // the groups it could sweep still settle
	}
	for _, uid := range users {
		l.settle(ctx, uid)
	}
}

// settle announces the user's presence if it differs from what the rooms
// were last told.
func (l *Lifecycle) settle(ctx context.Context, userID int64) {
	changed, online, err := l.tracker.Settle(ctx, userID)
	if err != nil {
		l.log.Warn("presence settle", "user_id", userID, "err", err)
		return
	}
	if !changed {
		return
	}
	if err := l.announce.PresenceChanged(ctx, userID, online); err != nil {
		l.log.Warn("publish presence", "user_id", userID, "err", err)
	}
}
