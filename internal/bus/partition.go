package bus

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// Subscription connections.
const (
	// Reconnect backoff of a partition's subscription.
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
	// subscribeBatch bounds the channels one (S)SUBSCRIBE or
	// (S)UNSUBSCRIBE names, so that a process with many topics
	// resubscribes in commands of a sane size.
	subscribeBatch = 1000
)

var (
	errClosed    = errors.New("the subscription connection closed")
	errSlotMoved = errors.New("the partition's slot moved to another Redis node")
)

// partition is one subscription connection and the topics it carries.
type partition struct {
	b *Bus
	// anchor is a channel nobody publishes on, subscribed while the
	// connection is up: on a cluster it binds the connection to the node
	// of the partition's slot, and Redis unsubscribes it when the slot
	// moves away.
	anchor string
	live   atomic.Bool
	wake   chan struct{} // holds one wake-up when pending is not empty

	mu      sync.Mutex
	wanted  map[Topic]struct{}
	pending map[Topic]struct{} // watched or unwatched since the last sync
	// subscribed is what the connection carries now, as Redis confirmed;
	// grew is closed (and replaced) whenever it gains topics.
	subscribed map[Topic]struct{}
	grew       chan struct{}
}

func newPartition(b *Bus, i int) *partition {
	return &partition{
		b: b, anchor: b.tag(i) + "live", wake: make(chan struct{}, 1),
		wanted: map[Topic]struct{}{}, pending: map[Topic]struct{}{},
		subscribed: map[Topic]struct{}{}, grew: make(chan struct{}),
	}
}

// await returns once the connection carries t, or with ctx's error.
func (p *partition) await(ctx context.Context, t Topic) error {
	for {
		p.mu.Lock()
		_, ok := p.subscribed[t]
		grew := p.grew
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// want records whether the hub needs t and wakes the connection's loop.
func (p *partition) want(t Topic, on bool) {
	p.mu.Lock()
	if on {
		p.wanted[t] = struct{}{}
	} else {
		delete(p.wanted, t)
	}
	p.pending[t] = struct{}{}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default: // a wake-up is already waiting
	}
}

// changes returns what the connection must subscribe and unsubscribe to
// match what is wanted: everything wanted on a fresh connection (nothing
// subscribed), else only the pending topics.
func (p *partition) changes() (add, drop []Topic) {
	p.mu.Lock()
	defer p.mu.Unlock()
	check := p.pending
	if len(p.subscribed) == 0 {
		check = p.wanted
	}
	for t := range check {
		_, wanted := p.wanted[t]
		_, had := p.subscribed[t]
		switch {
		case wanted && !had:
			add = append(add, t)
		case !wanted && had:
			drop = append(drop, t)
		}
	}
	p.pending = map[Topic]struct{}{}
	return add, drop
}

// run keeps the partition subscribed until ctx ends, reconnecting with
// backoff.
func (p *partition) run(ctx context.Context, d Dispatcher) {
	wait := retryMin
	for ctx.Err() == nil {
		err := p.serve(ctx, d, func() { wait = retryMin })
		if ctx.Err() != nil {
			return
		}
		p.live.Store(false)
		d.Lost()
		p.b.log.Warn("event bus subscription lost; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}

// serve holds one connection: it subscribes the anchor and every wanted
// topic, then follows Watch and Unwatch until the connection fails or ctx
// ends. up is called once the connection is subscribed.
func (p *partition) serve(ctx context.Context, d Dispatcher, up func()) error {
	dc, release := p.b.rdb.Dedicate()
	defer release()
	defer dc.Close() // its subscriptions end with it
	moved := make(chan error, 1)
	lost := dc.SetPubSubHooks(rueidis.PubSubHooks{
		OnMessage: func(m rueidis.PubSubMessage) { p.b.receive(d, m) },
		OnSubscription: func(s rueidis.PubSubSubscription) {
			if s.Channel == p.anchor && (s.Kind == "sunsubscribe" || s.Kind == "unsubscribe") {
				select { // only Redis unsubscribes the anchor
				case moved <- errSlotMoved:
				default:
				}
			}
		},
	})
	defer p.forget()
	if err := p.b.command(ctx, dc, true, []string{p.anchor}); err != nil {
		return err
	}
	for first := true; ; first = false {
		if err := p.sync(ctx, dc, d); err != nil {
			return err
		}
		if first {
			p.live.Store(true)
			up()
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-lost:
			return cmp.Or(err, errClosed)
		case err := <-moved:
			return err
		case <-p.wake:
		}
	}
}

// forget empties what the connection carried: it has gone.
func (p *partition) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.b.stats.Topics.Add(-int64(len(p.subscribed)))
	p.subscribed = map[Topic]struct{}{}
}

// sync unsubscribes the topics no longer wanted and subscribes the wanted
// ones the connection lacks.
func (p *partition) sync(ctx context.Context, dc rueidis.DedicatedClient, d Dispatcher) error {
	add, drop := p.changes()
	if err := p.apply(ctx, dc, false, drop, d); err != nil {
		return err
	}
	return p.apply(ctx, dc, true, add, d)
}

// apply subscribes or unsubscribes topics in batches. A topic counts as
// unsubscribed from the moment its UNSUBSCRIBE is sent, so that nobody
// awaiting it takes it for live meanwhile. Once Redis has confirmed a
// subscription, d resyncs the connections already open in its topics, and
// then those awaiting it are woken: they read their cursors after it, and
// need no resync.
func (p *partition) apply(ctx context.Context, dc rueidis.DedicatedClient, subscribe bool, topics []Topic, d Dispatcher) error {
	for batch := range slices.Chunk(topics, subscribeBatch) {
		channels := make([]string, len(batch))
		for i, t := range batch {
			channels[i] = p.b.channel(t)
		}
		if !subscribe {
			p.record(false, batch)
		}
		if err := p.b.command(ctx, dc, subscribe, channels); err != nil {
			return err
		}
		if subscribe {
			d.Subscribed(batch)
			p.record(true, batch)
		}
	}
	return nil
}

func (p *partition) record(subscribed bool, batch []Topic) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range batch {
		if subscribed {
			p.subscribed[t] = struct{}{}
		} else {
			delete(p.subscribed, t)
		}
	}
	n := int64(len(batch))
	if subscribed {
		close(p.grew)
		p.grew = make(chan struct{})
	} else {
		n = -n
	}
	p.b.stats.Topics.Add(n)
}

// command subscribes or unsubscribes channels on the connection: shard
// channels on a cluster. Redis has acted on all of them when it returns.
func (b *Bus) command(ctx context.Context, dc rueidis.DedicatedClient, subscribe bool, channels []string) error {
	var cmd rueidis.Completed
	switch {
	case subscribe && b.sharded:
		cmd = dc.B().Ssubscribe().Channel(channels...).Build()
	case subscribe:
		cmd = dc.B().Subscribe().Channel(channels...).Build()
	case b.sharded:
		cmd = dc.B().Sunsubscribe().Channel(channels...).Build()
	default:
		cmd = dc.B().Unsubscribe().Channel(channels...).Build()
	}
	return dc.Do(ctx, cmd).Error()
}
