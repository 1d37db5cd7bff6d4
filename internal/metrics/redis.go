package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// redisPingTimeout bounds the PING of one scrape, so a hung Redis shows as
// down instead of stalling /metrics.
const redisPingTimeout = time.Second

// redisCollector pings Redis at each scrape and exports whether it answered
// and how long it took.
type redisCollector struct {
	ping      func(context.Context) error
	up, pingS *prometheus.Desc
}

func newRedisCollector(ping func(context.Context) error) *redisCollector {
	return &redisCollector{
		ping: ping,
		up: prometheus.NewDesc(namespace+"_redis_up",
			"1 when Redis answered PING at this scrape, 0 otherwise.", nil, nil),
		pingS: prometheus.NewDesc(namespace+"_redis_ping_seconds",
			"Round trip of a PING to Redis at this scrape (the timeout when it failed).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *redisCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.pingS
}

// Collect implements prometheus.Collector.
func (c *redisCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), redisPingTimeout)
	defer cancel()
	start := time.Now()
	err := c.ping(ctx)
	took := time.Since(start)
	up := 1.0
	if err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.pingS, prometheus.GaugeValue, took.Seconds())
}
