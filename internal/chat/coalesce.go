package chat

import (
	"context"
	"sync"
	"time"
)

// coalescer bounds how often one key's event goes out, across processes:
// the first in a key's window goes out at once, the later ones of the
// window as one when it ends, so the last state is never lost. It
// remembers the keys whose window end is due on this process.
type coalescer struct {
	mu      sync.Mutex
	pending map[string]bool
}

// coalesce runs now if the key's window (Throttle) is open, and otherwise
// due once when the window ends, however many calls come meanwhile: due
// reads the state as it is then. Without Redis, an event too many beats
// one missing, so now runs.
func (s *Service) coalesce(ctx context.Context, key string, window time.Duration, now func(), due func(context.Context)) {
	ok, err := s.throttle.Once(ctx, key, window)
	if ok || err != nil {
		now()
		return
	}
	c := &s.coalescer
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[key] {
		return
	}
	if c.pending == nil {
		c.pending = map[string]bool{}
	}
	c.pending[key] = true
	time.AfterFunc(window, func() {
		c.mu.Lock()
		delete(c.pending, key)
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), window)
		defer cancel()
		due(ctx)
	})
}
