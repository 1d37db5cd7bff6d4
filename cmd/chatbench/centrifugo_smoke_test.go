package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// centrifugoStartTimeout is how long a test waits for Centrifugo's /health.
const centrifugoStartTimeout = 15 * time.Second

// TestCentrifugoSmoke runs the load tool against a real Centrifugo, with
// channels without history (counted by the senders' numbers) and with
// history (counted by offsets): 200 clients in 4 rooms, 2 members of
// every room, 8 senders for 5 s. Every publication reaches every
// subscriber once, in order. It needs a Centrifugo binary, which CI does
// not have: the test skips without one.
func TestCentrifugoSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Centrifugo and 202 WebSocket clients")
	}
	bin := os.Getenv("CENTRIFUGO_BIN")
	if bin == "" {
		bin = "/tmp/centrifugo"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no Centrifugo binary at %s (set CENTRIFUGO_BIN to one): this smoke test needs it; CI has none", bin)
	}
	for name, channel := range map[string]map[string]any{
		"NoHistory": nil,
		"Offsets":   {"without_namespace": map[string]any{"history_size": 1000, "history_ttl": "60s", "force_positioning": true}},
	} {
		t.Run(name, func(t *testing.T) {
			addr := startCentrifugo(t, bin, channel)
			res := benchAgainst(t, addr, "-target", "centrifugo", "-clients", "200", "-rooms", "4", "-everywhere", "2",
				"-senders", "8", "-duration", "5s")
			t.Logf("%d publishes (%.0f/s), %d deliveries (%.0f/s) in %d WebSocket messages, send→deliver p99 %.1f ms",
				res.Sends.Acked, res.Sends.PerSec, res.Deliveries.Delivered, res.Deliveries.PerSec, res.Deliveries.Frames, res.Deliveries.EndToEnd.P99)
			if res.Connect.Connected != 202 {
				t.Errorf("%d of 202 clients connected", res.Connect.Connected)
			}
			if e := res.Everywhere; e == nil || e.Expected != 2*res.Sends.Acked || e.Delivered != e.Expected {
				t.Errorf("members of every room: %+v, want %d deliveries", e, 2*res.Sends.Acked)
			}
			checkDelivered(t, res)
		})
	}
}

// startCentrifugo runs bin on a free port with the configuration chatbench
// prints, channel options added, and returns its base URL once /health
// answers.
func startCentrifugo(t *testing.T, bin string, channel map[string]any) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	cfg, err := parseConfig([]string{"-target", "centrifugo", "-addr", addr}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	conf := centrifugoConfig(cfg)
	if channel != nil {
		conf["channel"] = channel
	}
	data, err := json.Marshal(conf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	confPath := filepath.Join(dir, "centrifugo.json")
	if err := os.WriteFile(confPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "centrifugo.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", confPath)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
	})
	deadline := time.Now().Add(centrifugoStartTimeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(addr + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(log.Name())
	t.Fatalf("Centrifugo at %s never answered /health:\n%s", addr, out)
	return ""
}
