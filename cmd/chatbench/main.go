// Command chatbench is Parley's load tool. It registers (or reuses) users,
// opens one WebSocket client per user spread over rooms, has some of them
// send through SendMessage at a target rate or as fast as acknowledgements
// come back, and reports connect time, sends, deliveries, send→deliver
// latency, gaps and duplicates seen, errors, and the server's memory per
// connection and CPU when it runs on this machine.
//
// With -target centrifugo the same clients, senders and counts load
// Centrifugo instead (channels for rooms, its HTTP API for sends), so both
// are measured by one client.
//
// See docs/PERFORMANCE.md for the scenarios and how to run them.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chatbench:", err)
		os.Exit(1)
	}
}

// run parses the flags, runs one benchmark and prints its result.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	if cfg.printConfig {
		return writeCentrifugoConfig(stdout, cfg)
	}
	res, err := bench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if cfg.jsonOut {
		return res.writeJSON(stdout)
	}
	res.writeTable(stdout)
	return nil
}
