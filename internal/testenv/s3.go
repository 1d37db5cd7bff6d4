package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/blob/s3"
)

// The S3 server of the tests: SeaweedFS, pinned in tools.mod, built from
// the Go module proxy on first use (minutes; then cached by the build
// cache) and run as `weed server -s3` on loopback.
const (
	weedPackage = "github.com/seaweedfs/seaweedfs/weed"
	s3Start     = 90 * time.Second
	s3Access    = "parley-test"
	s3Secret    = "parley-test-secret"
)

// StartS3 starts an S3-compatible server of the test's own, with a bucket,
// and stops it when the test ends. A server that exits while starting (a
// port taken between choosing and binding it) is started again on other
// ports; the test fails if it cannot start.
func StartS3(tb testing.TB) s3.Config {
	tb.Helper()
	weed := buildWeed(tb)
	const attempts = 3
	for attempt := 1; ; attempt++ {
		cfg, logs, exited := startWeed(tb, weed)
		if !exited {
			return cfg
		}
		if attempt == attempts {
			tb.Fatalf("SeaweedFS exited while starting, %d times; the last time:\n%s", attempts, logs)
		}
		tb.Logf("SeaweedFS exited while starting; starting it again on other ports")
	}
}

// startWeed runs `weed server -s3` and waits until its bucket exists. It
// reports whether weed exited first, with its logs; it fails the test if
// weed neither answers nor exits within s3Start.
func startWeed(tb testing.TB, weed string) (cfg s3.Config, logs string, exited bool) {
	tb.Helper()
	dir := tb.TempDir()
	identities := fmt.Sprintf(`{"identities":[{"name":"parley","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, s3Access, s3Secret)
	if err := os.WriteFile(filepath.Join(dir, "s3.json"), []byte(identities), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		tb.Fatal(err)
	}
	port := freePort(tb)
	args := []string{"server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + filepath.Join(dir, "data"),
		"-s3", "-s3.port=" + strconv.Itoa(port), "-s3.config=" + filepath.Join(dir, "s3.json"),
		"-master.volumeSizeLimitMB=64", "-volume.max=8", "-master.telemetry=false"}
	// Every listener on a port of its own, so tests in parallel never meet.
	for _, flag := range []string{"s3.port.grpc", "s3.port.iceberg", "master.port", "master.port.grpc", "volume.port",
		"volume.port.grpc", "filer.port", "filer.port.grpc", "metricsPort"} {
		args = append(args, "-"+flag+"="+strconv.Itoa(freePort(tb)))
	}
	out := &syncBuffer{}
	cmd := exec.Command(weed, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := startOrphanProof(cmd); err != nil {
		tb.Fatalf("start SeaweedFS: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	tb.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	cfg = s3.Config{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Bucket: Name("parley-"), AccessKey: s3Access, SecretKey: s3Secret, Region: "us-east-1"}
	cfg.Bucket = strings.ReplaceAll(cfg.Bucket, "_", "-")
	deadline := time.Now().Add(s3Start)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s3.New(ctx, cfg) // creates the bucket once the filer is up
		cancel()
		if err == nil {
			return cfg, "", false
		}
		select {
		case <-done:
			return cfg, out.String(), true
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("SeaweedFS's S3 did not start within %s: %v\n%s", s3Start, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// syncBuffer is a process's output, written by the goroutines exec starts
// and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildWeed builds weed at the version tools.mod pins, into the user's
// cache directory; an up-to-date binary is not rebuilt.
func buildWeed(tb testing.TB) string {
	tb.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(cache, "parley-test", "weed")
	build := exec.Command("go", "build", "-modfile=tools.mod", "-o", out, weedPackage)
	build.Dir = RepoRoot()
	if msg, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build SeaweedFS (%s) for the S3 tests: %v\n%s", weedPackage, err, msg)
	}
	return out
}
