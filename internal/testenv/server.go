package testenv

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/app"
)

const startTimeout = 60 * time.Second

// Server is a running chatd.
type Server struct {
	// URL is the base address, http://127.0.0.1:port.
	URL string
	Env Env
	// Logs holds what the server logged so far.
	Logs *Logs
	cmd  *exec.Cmd
}

// Logs collects a server's log lines.
type Logs struct {
	mu    sync.Mutex
	lines []string
}

// Lines returns the log lines so far.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Wait reports whether a line containing substr is logged within d: the log
// is read from a pipe, so the last lines may still be on their way.
func (l *Logs) Wait(substr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		for _, line := range l.Lines() {
			if strings.Contains(line, substr) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *Logs) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

// Start runs app.Run in this test process with env (from ServerEnv) and
// stops it gracefully when the test ends.
func Start(tb testing.TB, env Env) *Server {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, nil, env.Getenv, pw)
		pw.Close()
	}()
	s := &Server{Env: env, Logs: &Logs{}}
	s.URL = waitListening(tb, pr, s.Logs, done)
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("chatd shut down with an error: %v", err)
		}
	})
	return s
}

// StartProcess runs the chatd binary (see Binary) as a separate process, for
// tests that kill or signal it.
func StartProcess(tb testing.TB, env Env) *Server {
	tb.Helper()
	cmd := exec.Command(Binary(tb))
	cmd.Env = append(os.Environ(), env.List()...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	s := &Server{Env: env, Logs: &Logs{}, cmd: cmd}
	s.URL = waitListening(tb, out, s.Logs, done)
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	return s
}

// AdminURL is the base address of the server's admin listener (metrics,
// pprof), read from its log.
func (s *Server) AdminURL(tb testing.TB) string {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range s.Logs.Lines() {
			if addr, ok := logField(line, "admin endpoints are listening", "addr"); ok {
				return "http://" + addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatal("the server logged no admin listener")
	return ""
}

// PID is the process id of a server started with StartProcess.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Signal sends sig to a server started with StartProcess.
func (s *Server) Signal(sig syscall.Signal) error { return s.cmd.Process.Signal(sig) }

// Wait waits for a server started with StartProcess to exit.
func (s *Server) Wait() error {
	_, err := s.cmd.Process.Wait()
	return err
}

func waitListening(tb testing.TB, r io.Reader, logs *Logs, done <-chan error) string {
	tb.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			logs.add(line)
			if url, ok := listenLine(line); ok {
				found <- url
			}
		}
		io.Copy(io.Discard, r)
	}()
	select {
	case url := <-found:
		waitReady(tb, url)
		return url
	case err := <-done:
		tb.Fatalf("chatd exited before listening: %v\n%v", err, logs.Lines())
	case <-time.After(startTimeout):
		tb.Fatalf("chatd did not start within %s:\n%v", startTimeout, logs.Lines())
	}
	return ""
}

func waitReady(tb testing.TB, url string) {
	tb.Helper()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("chatd at %s never became ready", url)
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary builds cmd/chatd once per test binary and returns its path.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chatd-test-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "chatd")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/chatd")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errorf("go build ./cmd/chatd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binary
}

// RepoRoot is the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
