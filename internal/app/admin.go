package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"

	"github.com/parley-chat/parley/internal/bus"
	"github.com/parley-chat/parley/internal/metrics"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store"

	"github.com/redis/rueidis"
)

// newMetrics reads the hub, the event bus, the MySQL pool, Redis and the
// connection cap at each scrape.
func newMetrics(hub *push.Hub, events *bus.Bus, st *store.Store, rdb rueidis.Client, conns *connCap) *metrics.Metrics {
	stats, busStats := hub.Stats(), events.Stats()
	return metrics.New(metrics.Sources{
		LiveConns:            hub.Conns,
		EventsFannedOut:      stats.EventsFannedOut.Load,
		SlowConsumers:        stats.SlowConsumers.Load,
		ResumeReplays:        stats.ResumeReplays.Load,
		TooFarBehind:         stats.TooFarBehind.Load,
		ConnsRefused:         conns.Refused,
		BusMessagesReceived:  busStats.MessagesReceived.Load,
		BusBytesReceived:     busStats.BytesReceived.Load,
		BusMessagesPublished: busStats.MessagesPublished.Load,
		BusBytesPublished:    busStats.BytesPublished.Load,
		BusTopics:            busStats.Topics.Load,
		DBStats:              st.Stats,
		RedisPing: func(ctx context.Context) error {
			return rdb.Do(ctx, rdb.B().Ping().Build()).Error()
		},
	})
}

// adminMux serves what operators need and users must not reach: Prometheus
// metrics, readiness with the reasons of each failing check, and Go's
// profiler. It is only ever served on PARLEY_ADMIN_ADDR, never on the public
// port.
func adminMux(m *metrics.Metrics, ready *readiness) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /readyz", ready.details)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Sampling of PARLEY_PROFILE_CONTENTION: one contended lock in 100, and a
// blocking event per 100 µs spent blocked.
const (
	contentionFraction = 100
	blockSampling      = 100 * time.Microsecond
)

// adminWriteTimeout lets a 30 s CPU profile or trace (pprof's default)
// finish.
const adminWriteTimeout = 2 * time.Minute

func newAdminServer(m *metrics.Metrics, ready *readiness) *http.Server {
	return &http.Server{
		Handler:           adminMux(m, ready),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      adminWriteTimeout,
	}
}

// serveAdmin starts the admin listener, if configured. A port that cannot be
// bound is logged as an error and leaves chatd serving its users: the admin
// port only serves observability, and a scrape target that stays down shows
// the problem.
func (s *server) serveAdmin() {
	if s.cfg.AdminAddr == "" {
		return
	}
	ln, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		s.log.Error("admin listener (metrics, pprof) is off", "err", fmt.Errorf("listen on %s (PARLEY_ADMIN_ADDR): %w", s.cfg.AdminAddr, err))
		return
	}
	s.log.Info("admin endpoints are listening", "addr", ln.Addr().String(), "metrics", "http://"+displayAddr(ln.Addr())+"/metrics")
	if s.cfg.ProfileContention {
		runtime.SetMutexProfileFraction(contentionFraction)
		runtime.SetBlockProfileRate(int(blockSampling))
		s.log.Info("lock contention and blocking are sampled for /debug/pprof/mutex and /debug/pprof/block")
	}
	go func() {
		if err := s.admin.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin listener stopped", "err", err)
		}
	}()
}
