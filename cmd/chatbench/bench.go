package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// Ports of the local MariaDB and Redis, whose CPU is reported when they run
// on this machine.
const (
	mysqlPort = 3306
	redisPort = 6379
)

// watched is a local process whose RSS and CPU the run reads.
type watched struct {
	name string
	pid  int
	// base is read before connecting, idle after connecting and settling,
	// send at the start of sending, end after the last delivery.
	base, idle, send, end procSample
}

func (w *watched) sample(into *procSample) {
	if s, ok := readProc(w.pid); ok {
		*into = s
	}
}

func findProcs(cfg config) []*watched {
	var out []*watched
	if len(cfg.pids) > 0 {
		for _, p := range cfg.pids {
			out = append(out, &watched{name: "chatd", pid: p})
		}
	} else {
		for _, a := range cfg.addrs {
			if u, err := url.Parse(a); err == nil {
				port, _ := strconv.Atoi(u.Port())
				if port == 0 {
					port = 80
				}
				if pid := pidListening(port); pid != 0 {
					out = append(out, &watched{name: "chatd", pid: pid})
				}
			}
		}
	}
	for _, p := range []struct {
		name string
		port int
	}{{"mysqld", mysqlPort}, {"redis", redisPort}} {
		if pid := pidListening(p.port); pid != 0 {
			out = append(out, &watched{name: p.name, pid: pid})
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
	hc := newHTTPClient(cfg.h2c, cfg.senders+cfg.setupWorkers)
	callsOf := make([]*calls, len(cfg.addrs))
	for i, a := range cfg.addrs {
		callsOf[i] = newCalls(hc, a)
	}

	start := time.Now()
	cast, st, err := prepare(ctx, cfg, callsOf[0], say)
	done()
	if err != nil {
		return nil, err
	}
	res.Setup = setupResult{Seconds: time.Since(start).Seconds(), Reused: st.reused.Load(), Refreshed: st.refreshed.Load(), LoggedIn: st.loggedIn.Load(), Registered: st.registered.Load()}

	procs := findProcs(cfg)
	for _, p := range procs {
		p.sample(&p.base)
	}

	// Every read loop ends by this deadline even if nothing closes it.
	hardEnd := time.Now().Add(cfg.settle + cfg.duration + cfg.drain + 2*time.Minute + time.Duration(cfg.clients+cfg.everywhere)*dialTimeout/time.Duration(cfg.dialWorkers))
	t := &tally{}
	clients, aud, err := connectAll(ctx, cfg, cast, t, hardEnd, say)
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
	sendStart := time.Now()
	for _, p := range procs {
		p.sample(&p.send)
	}
	stopProgress := progress(cfg, t, sendStart, say)
	sendCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	tokens := newKeeper(cast.users)
	runSenders(sendCtx, cfg, callsOf, tokens, aud, t, res.Run)
	cancel()
	if tokens.renewed.Load() > 0 {
		// Renewal rotated the refresh tokens: keep the new ones for the next run.
		if err := saveTokens(cfg.tokenFile, cast.users, loadTokens(cfg.tokenFile)); err != nil {
			say("could not save the token cache %s: %v", cfg.tokenFile, err)
		}
	}
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
	res.Sends.TokensRenewed = tokens.renewed.Load()
	return res, nil
}

// audience is who should receive a message, from the clients' Ready.
type audience struct {
	members    map[int64]int64 // connected clients per room
	everywhere int64           // of them, in every room: members of every room
}

// connectAll opens the clients, dialWorkers at a time, and starts their
// read loops: one per -clients, then one per member of every room.
func connectAll(ctx context.Context, cfg config, cast *cast, t *tally, until time.Time, say func(string, ...any)) ([]*wsClient, audience, error) {
	clients := make([]*wsClient, cfg.clients+len(cast.everywhere))
	// userOf is client i's user: members of every room come last.
	userOf := func(i int) (*benchUser, bool) {
		if i < cfg.clients {
			return &cast.users[i%len(cast.users)], false
		}
		return &cast.everywhere[i-cfg.clients], true
	}
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
				u, everywhere := userOf(i)
				c, err := dial(ctx, cfg.addrs[i%len(cfg.addrs)], u)
				if err != nil {
					t.connectFailed.Add(1)
					t.fail("connect: " + shortErr(err))
					continue
				}
				t.connectLat.record(time.Since(t0))
				t.connected.Add(1)
				c.everywhere = everywhere
				c.generic = cfg.client == clientGeneric
				clients[i] = c
				go c.read(t, until)
			}
		}()
	}
	wg.Wait()
	close(stop)
	// The rooms come from each client's Ready, so a client counts where the
	// server says it is.
	aud := audience{members: map[int64]int64{}}
	for _, c := range clients {
		if c == nil {
			continue
		}
		for room := range c.last {
			aud.members[room]++
		}
		if c.everywhere {
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

func closeAll(clients []*wsClient) {
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
func runSenders(ctx context.Context, cfg config, callsOf []*calls, tokens *keeper, aud audience, t *tally, run string) {
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
			user := i % len(tokens.users)
			c := callsOf[i%len(callsOf)]
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
				sendOne(cfg, c, tokens, user, i, k, aud, t, run)
			}
		}()
	}
	wg.Wait()
}

func sendOne(cfg config, c *calls, tokens *keeper, user, sender, k int, aud audience, t *tally, run string) {
	// A send in flight when the run ends may finish: it is not cut off.
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	token, err := tokens.access(ctx, c, user)
	if err != nil {
		t.sendErrors.Add(1)
		t.fail("renew token: " + shortErr(err))
		return
	}
	room := tokens.users[user].room
	t0 := time.Now()
	_, err = c.send.CallUnary(ctx, withToken(&chatv1.SendMessageRequest{
		RoomId: room, Body: body(cfg.bodyBytes, t0, run, sender, k),
		ClientMsgId: fmt.Sprintf("%s-%d-%d", run, sender, k),
	}, token))
	if err != nil {
		t.sendErrors.Add(1)
		var ce *connect.Error
		if errors.As(err, &ce) {
			t.fail("send: " + ce.Code().String())
		} else {
			t.fail("send: " + shortErr(err))
		}
		return
	}
	t.sendLat.record(time.Since(t0))
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
