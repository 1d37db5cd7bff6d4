package app

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/grpchealth"
	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store"
)

const readyTimeout = 2 * time.Second

// readiness is true while MySQL and Redis answer and the event feed is
// subscribed; it serves /readyz and gRPC health.
type readiness struct {
	store    *store.Store
	rdb      rueidis.Client
	hub      *push.Hub
	draining atomic.Bool
}

func (r *readiness) check(ctx context.Context) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	status := map[string]string{"mysql": "ok", "redis": "ok", "events": "ok"}
	if err := r.store.Ping(ctx); err != nil {
		status["mysql"] = err.Error()
	}
	if err := r.rdb.Do(ctx, r.rdb.B().Ping().Build()).Error(); err != nil {
		status["redis"] = err.Error()
	}
	if !r.hub.FeedUp() {
		status["events"] = "not subscribed"
	}
	if r.draining.Load() {
		status["server"] = "shutting down"
	}
	return status
}

func healthy(status map[string]string) bool {
	for _, v := range status {
		if v != "ok" {
			return false
		}
	}
	return true
}

// ServeHTTP answers /readyz: 200 when ready, 503 with the failing parts.
func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	status := r.check(req.Context())
	w.Header().Set("Content-Type", "application/json")
	if !healthy(status) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(status)
}

// Check answers grpc.health.v1 with the same verdict for every service.
func (r *readiness) Check(ctx context.Context, _ *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if healthy(r.check(ctx)) {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
}
