package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/grpchealth"
	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/store"
)

// readyCheckTimeout is each check's own budget. The checks run at once, so
// /readyz answers within it, under the image's health check timeout (3 s);
// and a dependency that hangs fails its own check only, never its
// neighbours'.
const readyCheckTimeout = 2 * time.Second

// Words of the public /readyz answer. The reason a check failed (a driver's
// error, an address) is for operators: it is logged and served on the admin
// listener, never to the public.
const (
	readyOK       = "ok"
	readyDown     = "unavailable"
	readyNotLive  = "not live"
	readyDraining = "shutting down"
	readyVerdict  = "status"
	readyReady    = "ready"
	readyNotReady = "not ready"
)

var errFeedNotLive = errors.New("the event feed is not subscribed to Redis, or has not resynced since it resubscribed")

// readiness is true while MySQL and Redis answer and the event feed is
// live; it serves /readyz, gRPC health and the admin listener's details.
type readiness struct {
	checks   []readyCheck
	log      *slog.Logger
	draining atomic.Bool

	mu   sync.Mutex
	last map[string]bool // each check's last outcome, to log changes only
}

// readyCheck is one dependency: its name in the answers, how to ask it, and
// the word for "down".
type readyCheck struct {
	name, down string
	run        func(context.Context) error
}

// feed is what readiness asks of the event bus.
type feed interface{ Live() bool }

func newReadiness(st *store.Store, rdb rueidis.Client, events feed, log *slog.Logger) *readiness {
	return &readiness{log: log, last: map[string]bool{}, checks: []readyCheck{
		{name: "mysql", down: readyDown, run: st.Ping},
		{name: "redis", down: readyDown, run: func(ctx context.Context) error {
			return rdb.Do(ctx, rdb.B().Ping().Build()).Error()
		}},
		// Live means subscribed and resynced since: the bus sets it when
		// the subscription is confirmed and every connection has been told
		// to catch up, and clears it when the subscription is lost.
		{name: "events", down: readyNotLive, run: func(context.Context) error {
			if !events.Live() {
				return errFeedNotLive
			}
			return nil
		}},
	}}
}

// check runs every check at once, each within its own budget, and returns
// each one's error (nil when it passed).
func (r *readiness) check(ctx context.Context) map[string]error {
	errs := make([]error, len(r.checks))
	var wg sync.WaitGroup
	for i, c := range r.checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, readyCheckTimeout)
			defer cancel()
			errs[i] = c.run(cctx)
		})
	}
	wg.Wait()
	out := make(map[string]error, len(r.checks))
	for i, c := range r.checks {
		out[c.name] = errs[i]
		r.logChange(c.name, errs[i])
	}
	return out
}

// logChange logs a check that started or stopped failing, once: health
// checks poll every few seconds, and a log line per poll would bury the
// moment it changed.
func (r *readiness) logChange(name string, err error) {
	r.mu.Lock()
	was, seen := r.last[name]
	r.last[name] = err == nil
	r.mu.Unlock()
	switch {
	case err != nil && (was || !seen):
		r.log.Warn("not ready", "check", name, "err", err)
	case err == nil && seen && !was:
		r.log.Info("ready again", "check", name)
	}
}

// public words each check's result for anyone: ok, or the check's word for
// down; and the verdict.
func (r *readiness) public(errs map[string]error) (map[string]string, bool) {
	out := map[string]string{}
	ready := true
	for _, c := range r.checks {
		out[c.name] = readyOK
		if errs[c.name] != nil {
			out[c.name], ready = c.down, false
		}
	}
	if r.draining.Load() {
		out["server"], ready = readyDraining, false
	}
	out[readyVerdict] = readyNotReady
	if ready {
		out[readyVerdict] = readyReady
	}
	return out, ready
}

// ServeHTTP answers /readyz: 200 when ready, 503 otherwise, naming each
// dependency as ok or down.
func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	status, ready := r.public(r.check(req.Context()))
	writeReady(w, ready, status)
}

// details answers the admin listener's /readyz: the same verdict with each
// failing check's error.
func (r *readiness) details(w http.ResponseWriter, req *http.Request) {
	errs := r.check(req.Context())
	status, ready := r.public(errs)
	for name, err := range errs {
		if err != nil {
			status[name] = err.Error()
		}
	}
	writeReady(w, ready, status)
}

func writeReady(w http.ResponseWriter, ready bool, status map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(status)
}

// Check answers grpc.health.v1 with the same verdict for every service.
func (r *readiness) Check(ctx context.Context, _ *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if _, ready := r.public(r.check(ctx)); ready {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
}
