package bus_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/bus"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/testenv"
)

// waitFor bounds every wait for something to arrive.
const waitFor = 10 * time.Second

// recorder is a Dispatcher that keeps what it was handed.
type recorder struct {
	mu         sync.Mutex
	events     []chat.Event
	ended      []string
	subscribed map[bus.Topic]int
	lost       int
}

func (r *recorder) Dispatch(e chat.Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }
func (r *recorder) EndSession(sid string) { r.mu.Lock(); r.ended = append(r.ended, sid); r.mu.Unlock() }
func (r *recorder) Lost()                 { r.mu.Lock(); r.lost++; r.mu.Unlock() }

func (r *recorder) Subscribed(ts []bus.Topic) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range ts {
		r.subscribed[t]++
	}
}

// rooms lists the rooms of the events received so far, in order.
func (r *recorder) rooms() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, e := range r.events {
		out = append(out, e.RoomID)
	}
	return out
}

func (r *recorder) timesSubscribed(t bus.Topic) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.subscribed[t]
}

// process is one chatd's bus, running until the test ends.
type process struct {
	*bus.Bus
	rec *recorder
}

func startBus(t *testing.T, rdb rueidis.Client, prefix string) *process {
	t.Helper()
	p := &process{Bus: bus.New(rdb, prefix, slog.New(slog.NewTextHandler(io.Discard, nil))), rec: &recorder{subscribed: map[bus.Topic]int{}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx, p.rec); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitUntil(t, "the bus is live", p.Live)
	return p
}

// watch watches the topics and waits until they are live.
func (p *process) watch(t *testing.T, topics ...bus.Topic) {
	t.Helper()
	before := map[bus.Topic]int{}
	for _, tp := range topics {
		before[tp] = p.rec.timesSubscribed(tp)
		p.Watch(tp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := p.Await(ctx, topics); err != nil {
		t.Fatalf("topics %+v not live: %v", topics, err)
	}
	for _, tp := range topics {
		if p.rec.timesSubscribed(tp) == before[tp] {
			t.Fatalf("Await returned for %+v before Subscribed named it", tp)
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func typing(room int64) chat.Event { return chat.Event{Kind: chat.Typing, RoomID: room, UserID: 1} }

// TestEachProcessHearsItsTopicsOnly: of three processes, two watch half of
// 40 rooms each (more rooms than a cluster has partitions) and hear exactly
// the events of their rooms, and the metric of received messages counts
// nothing else; the third watches nothing and hears nothing. A room
// unwatched by its last process is heard there no more.
func TestEachProcessHearsItsTopicsOnly(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		a, b, sender := startBus(t, rdb, prefix), startBus(t, rdb, prefix), startBus(t, rdb, prefix)
		var roomsA, roomsB []int64
		for r := int64(1); r <= 40; r++ {
			if r%2 == 0 {
				roomsA = append(roomsA, r)
				a.watch(t, bus.Topic{Room: r})
			} else {
				roomsB = append(roomsB, r)
				b.watch(t, bus.Topic{Room: r})
			}
		}
		ctx := context.Background()
		for round := range 3 {
			for r := int64(1); r <= 40; r++ {
				if err := sender.Publish(ctx, typing(r)); err != nil {
					t.Fatalf("round %d, room %d: %v", round, r, err)
				}
			}
		}
		for _, p := range []struct {
			name  string
			proc  *process
			rooms []int64
		}{{"A", a, roomsA}, {"B", b, roomsB}} {
			want := 3 * len(p.rooms)
			waitUntil(t, fmt.Sprintf("%s heard %d events", p.name, want), func() bool { return len(p.proc.rec.rooms()) >= want })
			got := p.proc.rec.rooms()
			for _, r := range got {
				if !slices.Contains(p.rooms, r) {
					t.Fatalf("%s heard room %d, which it does not watch", p.name, r)
				}
			}
			if len(got) != want || p.proc.Stats().MessagesReceived.Load() != int64(want) {
				t.Fatalf("%s heard %d events (metric %d), want %d", p.name, len(got), p.proc.Stats().MessagesReceived.Load(), want)
			}
		}
		if n := sender.Stats().MessagesReceived.Load(); n != 0 {
			t.Fatalf("the sender, which watches nothing, received %d messages", n)
		}
		if n := sender.Stats().MessagesPublished.Load(); n != 120 {
			t.Fatalf("the sender's published count is %d, want 120", n)
		}

		// A's last connection in room 2 leaves: A hears room 2 no more.
		heard := a.Stats().MessagesReceived.Load()
		a.Unwatch(bus.Topic{Room: 2})
		waitUntil(t, "A unsubscribed", func() bool { return a.Stats().Topics.Load() == int64(len(roomsA)-1) })
		b.watch(t, bus.Topic{Room: 2})
		if err := sender.Publish(ctx, typing(2)); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "B heard room 2", func() bool { return slices.Contains(b.rec.rooms(), 2) })
		if n := a.Stats().MessagesReceived.Load(); n != heard {
			t.Fatalf("A received %d more messages after unwatching room 2", n-heard)
		}
	})
}

// TestSessionEndedReachesTheUsersProcess: a session's end is published to
// its user's topic and heard only where that user is watched.
func TestSessionEndedReachesTheUsersProcess(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		a, b := startBus(t, rdb, prefix), startBus(t, rdb, prefix)
		a.watch(t, bus.Topic{User: 7})
		b.watch(t, bus.Topic{User: 8})
		if err := b.SessionEnded(context.Background(), 7, "s7"); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "A closes s7", func() bool {
			a.rec.mu.Lock()
			defer a.rec.mu.Unlock()
			return slices.Equal(a.rec.ended, []string{"s7"})
		})
		if n := b.Stats().MessagesReceived.Load(); n != 0 {
			t.Fatalf("B, which does not hold user 7, received %d messages", n)
		}
	})
}

// TestResubscribesAfterRedisRestart: when Redis goes away the bus says it
// is not live and tells the dispatcher; when Redis is back it subscribes
// every watched topic again, names them all in Subscribed (so connections
// catch up from the store), and events flow again.
func TestResubscribesAfterRedisRestart(t *testing.T) {
	srv := testenv.StartRedis(t)
	opt, err := rueidis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	opt.DisableRetry = true // as chatd runs it
	rdb, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rdb.Close)
	p := startBus(t, rdb, "restart:")
	topics := []bus.Topic{{Room: 1}, {Room: 2}, {User: 3}}
	p.watch(t, topics...)

	srv.Stop()
	waitUntil(t, "the bus is not live", func() bool { return !p.Live() })
	srv.Start()
	waitUntil(t, "the bus is live again", p.Live)
	for _, tp := range topics {
		if n := p.rec.timesSubscribed(tp); n != 2 {
			t.Fatalf("%+v named in Subscribed %d times, want 2 (first watch, resubscription)", tp, n)
		}
	}
	p.rec.mu.Lock()
	lost := p.rec.lost
	p.rec.mu.Unlock()
	if lost == 0 {
		t.Fatal("the dispatcher was not told that the subscription was lost")
	}
	// The first command on the client's own broken connection fails (no
	// retries, as chatd runs it); the next one dials again.
	waitUntil(t, "a publish succeeds", func() bool { return p.Publish(context.Background(), typing(2)) == nil })
	waitUntil(t, "room 2's event arrives", func() bool { return slices.Contains(p.rec.rooms(), 2) })
}
