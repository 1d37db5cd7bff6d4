package push

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/rueidis"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
)

// Kinds of bus payloads: the first byte says what follows.
const (
	kindEvent        = 'e'
	kindSessionEnded = 's'
)

// Reconnect backoff of the bus's subscription.
const (
	busRetryMin = 100 * time.Millisecond
	busRetryMax = 5 * time.Second
)

var (
	_ chat.Publisher      = (*Bus)(nil)
	_ auth.SessionWatcher = (*Bus)(nil)
)

// Bus carries events between chatd processes over one Redis channel; every
// process decodes each event once and hands it to its Hub.
type Bus struct {
	rdb     rueidis.Client
	channel string
	hub     *Hub
	log     *slog.Logger
}

// NewBus publishes on and subscribes to prefix+"events".
func NewBus(rdb rueidis.Client, prefix string, hub *Hub, log *slog.Logger) *Bus {
	return &Bus{rdb: rdb, channel: prefix + "events", hub: hub, log: log}
}

// Publish sends a room event to every process.
func (b *Bus) Publish(ctx context.Context, e chat.Event) error {
	payload, err := proto.Marshal(protoconv.Event(e))
	if err != nil {
		return err
	}
	return b.publish(ctx, kindEvent, payload)
}

// SessionEnded tells every process to close the session's connections.
func (b *Bus) SessionEnded(ctx context.Context, sessionID string) error {
	return b.publish(ctx, kindSessionEnded, []byte(sessionID))
}

func (b *Bus) publish(ctx context.Context, kind byte, payload []byte) error {
	msg := append([]byte{kind}, payload...)
	return b.rdb.Do(ctx, b.rdb.B().Publish().Channel(b.channel).Message(rueidis.BinaryString(msg)).Build()).Error()
}

// Run subscribes until ctx ends. After every (re)subscription the hub
// re-checks its connections against the store, so events published while
// the subscription was down are not missed.
func (b *Bus) Run(ctx context.Context) {
	wait := busRetryMin
	for ctx.Err() == nil {
		subCtx := rueidis.WithOnSubscriptionHook(ctx, func(s rueidis.PubSubSubscription) {
			if s.Kind == "subscribe" {
				wait = busRetryMin
				b.hub.Resync()
			}
		})
		err := b.rdb.Receive(subCtx, b.rdb.B().Subscribe().Channel(b.channel).Build(), b.receive)
		if ctx.Err() != nil {
			return
		}
		b.hub.setFeedUp(false)
		b.log.Warn("event bus subscription lost; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, busRetryMax)
	}
}

func (b *Bus) receive(m rueidis.PubSubMessage) {
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
		b.hub.Dispatch(&ev)
	case kindSessionEnded:
		b.hub.EndSession(string(payload))
	default:
		b.log.Error("unknown bus payload", "err", errors.New("bad kind byte"))
	}
}
