package app_test

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// benchFileBytes is the upload the benchmark sends: 20 MiB.
const benchFileBytes = 20 << 20

// pattern is an endless stream of bytes made as they are read, so the
// client holds none of the file: what the process's RSS gains is the
// server's.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return len(p), nil
}

func postFile(b *testing.B, srv *testenv.Server, token string) {
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/uploads?filename=big.bin", io.LimitReader(pattern{}, benchFileBytes))
	req.ContentLength = benchFileBytes
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Errorf("upload: %d", res.StatusCode)
	}
}

// BenchmarkUpload20MiB: one 20 MiB upload after another into the local
// store (MB/s), then ten at once while the process's RSS is sampled
// (rss-growth-MB: the peak over the RSS before).
func BenchmarkUpload20MiB(b *testing.B) {
	e := testenv.ServerEnv(b)
	e["PARLEY_UPLOAD_QUOTA_BYTES"] = strconv.Itoa(1 << 40)
	srv := testenv.Start(b, e)
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(b, "bench")
	b.SetBytes(benchFileBytes)
	b.ResetTimer()
	for b.Loop() {
		postFile(b, srv, c.Token)
	}
	b.StopTimer()

	before := rssBytes(b)
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if r := rssBytes(b); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { postFile(b, srv, c.Token) })
	}
	wg.Wait()
	close(stop)
	b.ReportMetric(float64(max(0, peak.Load()-before))/1e6, "rss-growth-MB")
}

// rssBytes is the process's resident set, from /proc/self/status.
func rssBytes(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
