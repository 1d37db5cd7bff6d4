package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// RedisServer is a private redis-server a fault test may stop, kill and
// start again; it keeps an append-only file, as compose runs Redis, so
// data survives a restart unless the test wipes it.
type RedisServer struct {
	process
	Port int
	dir  string
}

// StartRedis starts a redis-server of the test's own on a free port.
func StartRedis(tb testing.TB) *RedisServer {
	tb.Helper()
	r := &RedisServer{process: process{tb: tb, name: "redis-server"}, Port: freePort(tb), dir: tb.TempDir()}
	r.Start()
	tb.Cleanup(r.Stop)
	return r
}

// freePort is a loopback TCP port nothing listens on right now.
func freePort(tb testing.TB) int {
	tb.Helper()
	port, err := pickPort(func(int) bool { return true })
	if err != nil {
		tb.Fatal(err)
	}
	return port
}

// pickPort is a loopback TCP port nothing listens on right now for which
// ok holds, below Linux's ephemeral range (32768 up): a port the kernel
// handed out as free is one it may also give a connection's local end
// before the server that was to listen there binds it (SeaweedFS binds its
// last ports seconds after starting, while other tests connect all around
// it).
func pickPort(ok func(port int) bool) (int, error) {
	const low, high = 10000, 32768
	for range 1000 {
		port := low + rand.IntN(high-low)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		free := ok(port)
		ln.Close()
		if free {
			return port, nil
		}
	}
	return 0, fmt.Errorf("found no free loopback port between %d and %d", low, high)
}

// URL is the server's address for PARLEY_REDIS_URL.
func (r *RedisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Start runs redis-server and waits until it accepts connections.
func (r *RedisServer) Start() {
	r.tb.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.tb.Fatalf("start redis-server (apt-get install redis-server): %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.Port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.tb.Fatal("redis-server did not start")
}

// Stop shuts redis-server down cleanly (it flushes its append-only file).
func (r *RedisServer) Stop() { r.end(syscall.SIGTERM) }

// Kill ends redis-server with SIGKILL, as a crash or an OOM kill would: it
// keeps what its append-only file had written (fsync every second).
func (r *RedisServer) Kill() { r.end(syscall.SIGKILL) }

func (r *RedisServer) end(sig syscall.Signal) {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(sig)
	_ = r.cmd.Process.Signal(syscall.SIGCONT) // a paused server acts on nothing else
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Wipe deletes a stopped server's data, so that the next Start comes back
// empty, as a Redis without persistence (or with a lost volume) does.
func (r *RedisServer) Wipe() {
	r.tb.Helper()
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		r.tb.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(r.dir, e.Name())); err != nil {
			r.tb.Fatal(err)
		}
	}
}
