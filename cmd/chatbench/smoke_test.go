package main

import (
	"context"
	"io"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// smokeEnv lifts the per-user limits that a load test exceeds by design.
var smokeEnv = map[string]string{
	"PARLEY_MAX_CONNS_PER_USER": "20",
	"PARLEY_LIMIT_SEND":         "100000/100s",
	"PARLEY_LIMIT_CALLS":        "100000/100s",
	"PARLEY_LIMIT_CREATE_ROOM":  "100000/100s",
	"PARLEY_LOG_LEVEL":          "info",
}

// TestSmoke is the CI run of the load tool: 200 WebSocket clients in 4
// rooms and 8 senders for 5 s against a real chatd, MariaDB and Redis, as a
// generic client: frames decoded in full into the schema's types, sends in
// Connect's JSON codec (TestEverywhere runs the fast reader and binary
// sends). It runs once per protocol of server frames that matters: single
// JSON frames, and batches in protobuf and in JSON. It asserts correctness
// only (every acknowledged message reaches every member once, in order, on
// the protocol asked for), never speed: CI machines vary.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chatd and 200 WebSocket clients")
	}
	for _, protocol := range []string{protocolJSON, protocolBatchProto, protocolBatchJSON} {
		t.Run(protocol, func(t *testing.T) {
			res := benchAgainstChatd(t, "-clients", "200", "-users", "20", "-rooms", "4", "-senders", "8", "-duration", "5s",
				"-client", "generic", "-send-json", "-protocol", protocol)
			t.Logf("%d sends acked (%.0f/s), %d deliveries (%.0f/s) in %d messages, send→deliver p99 %.1f ms",
				res.Sends.Acked, res.Sends.PerSec, res.Deliveries.Delivered, res.Deliveries.PerSec, res.Deliveries.Frames, res.Deliveries.EndToEnd.P99)
			if res.Connect.Connected != 200 {
				t.Errorf("%d of 200 clients connected", res.Connect.Connected)
			}
			if want := map[string]int64{protocol: 200}; !maps.Equal(res.Protocols, want) {
				t.Errorf("clients per protocol in effect %v, want %v", res.Protocols, want)
			}
			checkDelivered(t, res)
		})
	}
}

// benchAgainstChatd runs the load tool with args against a chatd of the
// test's own, whose per-user limits are lifted.
func benchAgainstChatd(t *testing.T, args ...string) *result {
	t.Helper()
	env := testenv.ServerEnv(t)
	for k, v := range smokeEnv {
		env[k] = v
	}
	srv := testenv.StartProcess(t, env)
	return benchAgainst(t, srv.URL, args...)
}

// benchAgainst runs the load tool with args against the server at addr.
func benchAgainst(t *testing.T, addr string, args ...string) *result {
	t.Helper()
	cfg, err := parseConfig(append([]string{
		"-addr", addr, "-settle", "500ms", "-drain", "10s", "-progress=false",
		"-tokens", filepath.Join(t.TempDir(), "tokens.json"),
	}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := bench(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkDelivered fails unless sends were acknowledged and every one reached
// every member of its room once, in order, with no error.
func checkDelivered(t *testing.T, res *result) {
	t.Helper()
	if res.Sends.Acked == 0 {
		t.Error("no send was acknowledged")
	}
	if res.Gaps != 0 || res.Duplicates != 0 || res.Errors != 0 {
		t.Errorf("gaps %d, duplicates %d, errors %d: %v", res.Gaps, res.Duplicates, res.Errors, res.ErrorKinds)
	}
	if res.Deliveries.Delivered != res.Deliveries.Expected {
		t.Errorf("%d deliveries, want %d", res.Deliveries.Delivered, res.Deliveries.Expected)
	}
}
