// Command healthcheck is the container image's HEALTHCHECK. The runtime image
// has no shell and no curl, so this small static program asks the chatd in
// the same container for /healthz (or the path given as its one argument,
// e.g. /readyz) on the port of PARLEY_ADDR, and exits 0 only on 200 OK.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// timeout bounds one check; Docker's own timeout should be longer.
const timeout = 3 * time.Second

func main() {
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string) error {
	path := "/healthz"
	if len(args) > 0 {
		path = args[0]
	}
	url, err := checkURL(getenv("PARLEY_ADDR"), path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", url, res.Status, body)
	}
	return nil
}

// checkURL turns chatd's listen address (":8080" by default, like chatd)
// into a loopback URL.
func checkURL(addr, path string) (string, error) {
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("PARLEY_ADDR %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}
