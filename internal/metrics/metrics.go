// Package metrics is chatd's Prometheus instrumentation. It wraps
// prometheus/client_golang alone: one registry per server (no global state)
// holding the RPC metrics it records and the live numbers it reads from the
// push hub, MySQL and Redis at scrape time, and the /metrics handler.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every Parley metric.
const namespace = "parley"

// rpcBuckets are the latency buckets of RPCs, in seconds: from a cache hit
// to a slow MySQL write. Server streams end in the +Inf bucket.
var rpcBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Sources are the live numbers the metrics read when scraped. Every field is
// optional; a nil one leaves its metrics out.
type Sources struct {
	// LiveConns counts this process's WebSocket and Subscribe connections.
	LiveConns func() int
	// Push counters, monotonic since start (push.Hub.Stats).
	EventsFannedOut func() int64
	SlowConsumers   func() int64
	ResumeReplays   func() int64
	TooFarBehind    func() int64
	// ConnsRefused counts connections closed for being over the
	// per-address cap, since start.
	ConnsRefused func() int64
	// Bus counters, monotonic since start (bus.Bus.Stats): what this
	// process heard from Redis and published to it.
	BusMessagesReceived, BusBytesReceived   func() int64
	BusMessagesPublished, BusBytesPublished func() int64
	// BusTopics counts the rooms and users this process listens to now.
	BusTopics func() int64
	// DBStats is the MySQL pool's state (store.Store.Stats).
	DBStats func() sql.DBStats
	// RedisPing asks Redis for PONG; its latency and success are exported.
	RedisPing func(context.Context) error
}

// Metrics is one server's registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New registers the Go runtime, process and Parley metrics.
func New(src Sources) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rpc_requests_total",
			Help: "RPCs handled, by procedure and Connect code (ok for success).",
		}, []string{"procedure", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "rpc_duration_seconds",
			Help:    "Time to handle an RPC (the whole stream for streaming RPCs), by procedure and code.",
			Buckets: rpcBuckets,
		}, []string{"procedure", "code"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration,
	)
	if src.LiveConns != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "live_connections",
			Help: "Open WebSocket and Subscribe connections of this process.",
		}, func() float64 { return float64(src.LiveConns()) }))
	}
	if src.BusTopics != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "bus_topics",
			Help: "Room and user channels this process is subscribed to, for its live connections.",
		}, func() float64 { return float64(src.BusTopics()) }))
	}
	for _, c := range []struct {
		name, help string
		read       func() int64
	}{
		{"push_events_fanned_out_total", "Event deliveries queued to live connections.", src.EventsFannedOut},
		{"push_slow_consumers_total", "Connections dropped for falling behind their send queue.", src.SlowConsumers},
		{"push_resume_replays_total", "Messages replayed from MySQL to connections that resumed or had a gap.", src.ResumeReplays},
		{"push_too_far_behind_total", "Resumes answered too_far_behind (more missed than the resume window).", src.TooFarBehind},
		{"http_conns_refused_total", "Connections closed at once for being over the per-address cap (PARLEY_MAX_CONNS_PER_IP).", src.ConnsRefused},
		{"bus_messages_received_total", "Messages this process received from the Redis event bus: only for the rooms and users its connections need.", src.BusMessagesReceived},
		{"bus_received_bytes_total", "Bytes of the messages this process received from the Redis event bus.", src.BusBytesReceived},
		{"bus_messages_published_total", "Events and session ends this process published on the Redis event bus.", src.BusMessagesPublished},
		{"bus_published_bytes_total", "Bytes of the messages this process published on the Redis event bus.", src.BusBytesPublished},
	} {
		if c.read == nil {
			continue
		}
		read := c.read
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Name: c.name, Help: c.help,
		}, func() float64 { return float64(read()) }))
	}
	if src.DBStats != nil {
		m.reg.MustRegister(newDBStatsCollector(src.DBStats, "parley"))
	}
	if src.RedisPing != nil {
		m.reg.MustRegister(newRedisCollector(src.RedisPing))
	}
	return m
}

// ObserveRPC records one finished RPC; the rpc package's interceptor calls
// it.
func (m *Metrics) ObserveRPC(procedure, code string, took time.Duration) {
	m.requests.WithLabelValues(procedure, code).Inc()
	m.duration.WithLabelValues(procedure, code).Observe(took.Seconds())
}

// Handler serves the registry in Prometheus' text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}
