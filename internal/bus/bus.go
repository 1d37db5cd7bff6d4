// Package bus carries events between chatd processes over Redis pub/sub
// (rueidis). A process publishes what its chat.Service decided and hears
// what every process published, then hands it to a Dispatcher (the push
// hub), given at run time. Events travel as protobuf, encoded once by the
// publisher and decoded once per process.
package bus

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
)

// Topic names what a process listens to: one room's events, or one user's.
type Topic = chat.Topic

// Dispatcher takes what arrives; the hub fills it.
type Dispatcher interface {
	// Dispatch takes a room or user event published by any process.
	Dispatch(e chat.Event)
	// EndSession closes this process's connections of that session.
	EndSession(sessionID string)
	// Subscribed says these topics are live (again): their connections
	// resync from the store, since events published while they were not
	// may be missing.
	Subscribed(topics []Topic)
	// Lost says the subscription connection dropped: nothing arrives until
	// Subscribed is called again.
	Lost()
}

// Kinds of bus payloads: the first byte says what follows.
const (
	kindEvent        = 'e'
	kindSessionEnded = 's'
)

// Reconnect backoff of the bus's subscription.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

var (
	_ chat.Publisher      = (*Bus)(nil)
	_ auth.SessionWatcher = (*Bus)(nil)
)

// Bus carries events between chatd processes over one Redis channel, which
// every process hears whole.
type Bus struct {
	rdb     rueidis.Client
	channel string
	log     *slog.Logger
	live    atomic.Bool

	mu      sync.Mutex
	watched map[Topic]struct{}
}

// New publishes on and subscribes to prefix+"events".
func New(rdb rueidis.Client, prefix string, log *slog.Logger) *Bus {
	return &Bus{rdb: rdb, channel: prefix + "events", log: log, watched: map[Topic]struct{}{}}
}

// Publish sends a room or user event to every process.
func (b *Bus) Publish(ctx context.Context, e chat.Event) error {
	payload, err := proto.Marshal(protoconv.Event(e))
	if err != nil {
		return err
	}
	return b.publish(ctx, kindEvent, payload)
}

// SessionEnded tells every process to close the session's connections.
func (b *Bus) SessionEnded(ctx context.Context, _ int64, sessionID string) error {
	return b.publish(ctx, kindSessionEnded, []byte(sessionID))
}

func (b *Bus) publish(ctx context.Context, kind byte, payload []byte) error {
	msg := append([]byte{kind}, payload...)
	return b.rdb.Do(ctx, b.rdb.B().Publish().Channel(b.channel).Message(rueidis.BinaryString(msg)).Build()).Error()
}

// Watch notes that the hub needs t. The one channel carries every topic,
// so it only remembers t, for Subscribed.
func (b *Bus) Watch(t Topic) {
	b.mu.Lock()
	b.watched[t] = struct{}{}
	b.mu.Unlock()
}

// Unwatch notes that the hub no longer needs t.
func (b *Bus) Unwatch(t Topic) {
	b.mu.Lock()
	delete(b.watched, t)
	b.mu.Unlock()
}

func (b *Bus) topics() []Topic {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Topic, 0, len(b.watched))
	for t := range b.watched {
		out = append(out, t)
	}
	return out
}

// Live reports whether the subscription is confirmed: every event published
// since reaches d.
func (b *Bus) Live() bool { return b.live.Load() }

// Run subscribes until ctx ends, handing d what arrives. After every
// (re)subscription d resyncs every watched topic from the store, so events
// published while the subscription was down are not missed.
func (b *Bus) Run(ctx context.Context, d Dispatcher) {
	wait := retryMin
	for ctx.Err() == nil {
		subCtx := rueidis.WithOnSubscriptionHook(ctx, func(s rueidis.PubSubSubscription) {
			if s.Kind == "subscribe" {
				wait = retryMin
				d.Subscribed(b.topics())
				b.live.Store(true)
			}
		})
		err := b.rdb.Receive(subCtx, b.rdb.B().Subscribe().Channel(b.channel).Build(), func(m rueidis.PubSubMessage) { b.receive(d, m) })
		if ctx.Err() != nil {
			return
		}
		b.live.Store(false)
		d.Lost()
		b.log.Warn("event bus subscription lost; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}

func (b *Bus) receive(d Dispatcher, m rueidis.PubSubMessage) {
	if len(m.Message) == 0 {
		return
	}
	payload := []byte(m.Message[1:])
	switch m.Message[0] {
	case kindEvent:
		var ev chatv1.Event
		if err := proto.Unmarshal(payload, &ev); err != nil {
			b.log.Error("undecodable event on bus", "err", err)
			return
		}
		d.Dispatch(protoconv.FromEvent(&ev))
	case kindSessionEnded:
		d.EndSession(string(payload))
	default:
		b.log.Error("unknown bus payload", "err", errors.New("bad kind byte"))
	}
}
