package testenv

import (
	"net/http"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric reads one unlabelled counter or gauge from the server's admin
// listener (its PARLEY_ADMIN_ADDR must be on).
func (s *Server) Metric(tb testing.TB, name string) float64 {
	tb.Helper()
	res, err := http.Get(s.AdminURL(tb) + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		tb.Fatalf("parse /metrics: %v", err)
	}
	f, ok := families[name]
	if !ok || len(f.GetMetric()) != 1 {
		tb.Fatalf("/metrics has no single series %s", name)
	}
	m := f.GetMetric()[0]
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}
