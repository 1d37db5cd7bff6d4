package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Ports of the local MariaDB and Redis, whose CPU is reported when they run
// on this machine.
const (
	mysqlPort = 3306
	redisPort = 6379
)

// watched is a local process whose RSS and CPU the run reads.
type watched struct {
	name   string
	pid    int
	server bool // the server under load, whose memory per connection is reported
	// base is read before connecting, idle after connecting and settling,
	// send at the start of sending, end after the last delivery.
	base, idle, send, end procSample
}

func (w *watched) sample(into *procSample) {
	if s, ok := readProc(w.pid); ok {
		*into = s
	}
}

// serverName names the process of the target in the results.
func (c config) serverName() string {
	if c.target == targetCentrifugo {
		return "centrifugo"
	}
	return "chatd"
}

func findProcs(cfg config) []*watched {
	var out []*watched
	if len(cfg.pids) > 0 {
		for _, p := range cfg.pids {
			out = append(out, &watched{name: cfg.serverName(), pid: p, server: true})
		}
	} else {
		for _, a := range cfg.addrs {
			if u, err := url.Parse(a); err == nil {
				port, _ := strconv.Atoi(u.Port())
				if port == 0 {
					port = 80
				}
				if pid := pidListening(port); pid != 0 {
					out = append(out, &watched{name: cfg.serverName(), pid: pid, server: true})
				}
			}
		}
	}
	if cfg.target == targetParley {
		// Centrifugo's memory engine uses neither.
		for _, p := range []struct {
			name string
			port int
		}{{"mysqld", mysqlPort}, {"redis", redisPort}} {
			if pid := pidListening(p.port); pid != 0 {
				out = append(out, &watched{name: p.name, pid: pid})
			}
		}
	}
	return append(out, &watched{name: "chatbench", pid: os.Getpid()})
}

func runID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// bench runs one benchmark: set-up, connect, settle, send, drain, close.
func bench(ctx context.Context, cfg config, stderr io.Writer) (*result, error) {
	say := func(format string, args ...any) {
		if cfg.progress {
			fmt.Fprintf(stderr, "\r\033[K"+format, args...)
		}
	}
	done := func() {
		if cfg.progress {
			fmt.Fprintln(stderr)
		}
	}
	res := &result{Config: cfg.summary(), Run: runID()}
	tg := newTarget(cfg, newHTTPClient(cfg.h2c, cfg.senders+cfg.setupWorkers), res.Run)

	start := time.Now()
	setup, err := tg.prepare(ctx, say)
	done()
	if err != nil {
		return nil, err
	}
	res.Setup = setup
	res.Setup.Seconds = time.Since(start).Seconds()

	procs := findProcs(cfg)
	for _, p := range procs {
		p.sample(&p.base)
	}

	// Every read loop ends by this deadline even if nothing closes it.
	hardEnd := time.Now().Add(cfg.settle + cfg.duration + cfg.drain + 2*time.Minute + time.Duration(cfg.clients+cfg.everywhere)*dialTimeout/time.Duration(cfg.dialWorkers))
	t := &tally{}
	clients, aud, err := connectAll(ctx, cfg, tg, t, hardEnd, say)
	done()
	res.Connect = connectResult{
		Connected: t.connected.Load(), Failed: t.connectFailed.Load(),
		Seconds: time.Since(start).Seconds() - res.Setup.Seconds, Latency: t.connectLat.summary(),
	}
	defer closeAll(clients)
	if err != nil {
		return nil, err
	}

	select {
	case <-time.After(cfg.settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for _, p := range procs {
		p.sample(&p.idle)
	}

	// Presence and join events of the set-up are not part of the run.
	t.otherEvents.Store(0)
	t.frames.Store(0)
	sendStart := time.Now()
	for _, p := range procs {
		p.sample(&p.send)
	}
	stopProgress := progress(cfg, t, sendStart, say)
	sendCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	runSenders(sendCtx, cfg, tg, aud, t)
	cancel()
	sendEnd := time.Now()
	drainUntil := time.Now().Add(cfg.drain)
	for t.delivered.Load() < t.expected.Load() && time.Now().Before(drainUntil) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	stopProgress()
	done()
	for _, p := range procs {
		p.sample(&p.end)
	}
	res.fill(cfg, t, procs, sendStart, sendEnd)
	tg.finish(res, say)
	return res, nil
}

// audience is who should receive a message, from the clients' Ready.
type audience struct {
	members    map[int64]int64 // connected clients per room
	everywhere int64           // of them, in every room: members of every room
}

// connectAll opens the clients, dialWorkers at a time, and starts their
// read loops: one per -clients, then one per member of every room.
func connectAll(ctx context.Context, cfg config, tg target, t *tally, until time.Time, say func(string, ...any)) ([]conn, audience, error) {
	clients := make([]conn, cfg.clients+cfg.everywhere)
	roomsOf := make([][]int64, len(clients))
	var next atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		tk := time.NewTicker(progressEvery)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				say("connect: %d/%d open, %d failed", t.connected.Load(), len(clients), t.connectFailed.Load())
			}
		}
	}()
	for range cfg.dialWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(clients) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				c, rooms, err := tg.dial(ctx, i)
				if err != nil {
					t.connectFailed.Add(1)
					t.fail("connect: " + shortErr(err))
					continue
				}
				t.connectLat.record(time.Since(t0))
				t.connectedWith(c.protocol())
				clients[i], roomsOf[i] = c, rooms
				go c.read(t, until)
			}
		}()
	}
	wg.Wait()
	close(stop)
	// The rooms come from the server's answers to each client, so a client
	// counts where the server says it is.
	aud := audience{members: map[int64]int64{}}
	for i, c := range clients {
		if c == nil {
			continue
		}
		for _, room := range roomsOf[i] {
			aud.members[room]++
		}
		if i >= cfg.clients {
			aud.everywhere++
		}
	}
	if err := ctx.Err(); err != nil {
		return clients, aud, err
	}
	if t.connected.Load() == 0 {
		return clients, aud, fmt.Errorf("no client could connect: %v", t.errorKinds())
	}
	return clients, aud, nil
}

func closeAll(clients []conn) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	deadline := time.After(closeTimeout)
	for _, c := range clients {
		if c == nil {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-deadline:
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.close()
		}()
	}
	wg.Wait()
}

// runSenders has clients 0..senders-1 send to their rooms until ctx ends,
// each with one request in flight, paced to the total rate if one is set.
func runSenders(ctx context.Context, cfg config, tg target, aud audience, t *tally) {
	if cfg.senders == 0 {
		<-ctx.Done() // idle connections are held for the whole duration
		return
	}
	var wg sync.WaitGroup
	var interval time.Duration
	if cfg.rate > 0 && cfg.senders > 0 {
		interval = time.Duration(float64(time.Second) * float64(cfg.senders) / cfg.rate)
	}
	start := time.Now()
	for i := range cfg.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Senders start spread over one interval, not all at once.
			var offset time.Duration
			if interval > 0 {
				offset = interval * time.Duration(i) / time.Duration(cfg.senders)
			}
			for k := 0; ctx.Err() == nil; k++ {
				if interval > 0 {
					wait := time.Until(start.Add(offset + time.Duration(k)*interval))
					if wait > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(wait):
						}
					}
				}
				sendOne(tg, i, k, aud, t)
			}
		}()
	}
	wg.Wait()
}

func sendOne(tg target, sender, k int, aud audience, t *tally) {
	// A send in flight when the run ends may finish: it is not cut off.
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	room, took, err := tg.send(ctx, sender, k)
	if err != nil {
		t.sendErrors.Add(1)
		t.fail(err.Error())
		return
	}
	t.sendLat.record(took)
	t.acked.Add(1)
	t.expected.Add(aud.members[room])
	t.everywhere.expected.Add(aud.everywhere)
}

// progress prints a live line every second until the returned func is
// called.
func progress(cfg config, t *tally, start time.Time, say func(string, ...any)) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(progressEvery)
		defer tk.Stop()
		var lastAcked, lastDelivered int64
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			a, d := t.acked.Load(), t.delivered.Load()
			say("%4.0fs  sent %d (%d/s)  delivered %d (%d/s)  e2e p99 %.1fms  gaps %d  dups %d  errors %d",
				time.Since(start).Seconds(), a, a-lastAcked, d, d-lastDelivered, ms(t.e2e.quantile(0.99)),
				t.gaps.Load(), t.duplicates.Load(), t.sendErrors.Load()+t.wsErrors.Load())
			lastAcked, lastDelivered = a, d
		}
	}()
	return func() { close(stop); <-done }
}
