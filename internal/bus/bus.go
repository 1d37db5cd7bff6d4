// Package bus carries events between chatd processes over Redis pub/sub
// (rueidis). Each room and each user has a channel of its own, and a process
// listens only to the topics its live connections need (Watch, Unwatch): a
// process with no member of a room hears none of its traffic. A process
// publishes what its chat.Service decided and hands what it hears to a
// Dispatcher (the push hub), given at run time. Events travel as protobuf,
// encoded once by the publisher and decoded once per listening process.
//
// On one Redis the channels are plain pub/sub on one connection. On Redis
// Cluster they are shard channels (SSUBSCRIBE, SPUBLISH), so a message
// travels only to the node that owns its channel's slot and to the
// processes listening there; the topics are spread over a fixed number of
// hash-tagged partitions, each with a connection of its own to its node.
package bus

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/redis/rueidis"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
)

// Topic names what a process listens to: one room's events, one user's, or
// the directory's (every process).
type Topic = chat.Topic

// Dispatcher takes what arrives; the hub fills it.
type Dispatcher interface {
	// Dispatch takes a room or user event published by any process.
	Dispatch(e chat.Event)
	// EndSession closes this process's connections of that session.
	EndSession(sessionID string)
	// Subscribed says these topics are live (again): the connections
	// already open in them resync from the store, since events published
	// before may be missing. It comes after a topic's first subscription
	// and after every resubscription, before Await returns for them.
	Subscribed(topics []Topic)
	// Lost says a subscription connection dropped: its topics hear nothing
	// until Subscribed names them again (Live says when all are up).
	Lost()
}

// Kinds of bus payloads: the first byte says what follows.
const (
	kindEvent        = 'e'
	kindSessionEnded = 's'
)

// partitions is how many hash-tagged partitions the topics are spread over
// on Redis Cluster, each with a subscription connection of its own: enough
// to spread them over the masters of a cluster. Every process must use the
// same number, since it decides the channels' names.
const partitions = 16

var (
	_ chat.Publisher      = (*Bus)(nil)
	_ auth.SessionWatcher = (*Bus)(nil)
)

// Bus carries events between chatd processes.
type Bus struct {
	rdb     rueidis.Client
	prefix  string
	sharded bool // Redis Cluster: shard channels
	log     *slog.Logger
	parts   []*partition // one on a single Redis
	stats   Stats
}

// Stats counts the bus's traffic since start, for metrics.
type Stats struct {
	MessagesReceived, BytesReceived   atomic.Int64
	MessagesPublished, BytesPublished atomic.Int64
	// Topics is how many topics this process is subscribed to now.
	Topics atomic.Int64
}

// New publishes on and subscribes to channels named after prefix; rdb's
// mode (single Redis or cluster) chooses plain or sharded pub/sub.
func New(rdb rueidis.Client, prefix string, log *slog.Logger) *Bus {
	b := &Bus{rdb: rdb, prefix: prefix + "bus:", sharded: rdb.Mode() == rueidis.ClientModeCluster, log: log}
	n := 1
	if b.sharded {
		n = partitions
	}
	for i := range n {
		b.parts = append(b.parts, newPartition(b, i))
	}
	return b
}

// Stats returns the live counters.
func (b *Bus) Stats() *Stats { return &b.stats }

// tag is the hash tag of a topic id's partition: on a cluster it puts the
// partition's channels in one slot.
func (b *Bus) tag(part int) string { return b.prefix + "{" + strconv.Itoa(part) + "}:" }

// partitionOf spreads topics evenly over the partitions, by id.
func partitionOf(t Topic) int {
	id := t.Room
	if t.User != 0 {
		id = t.User
	}
	return int((id%partitions + partitions) % partitions)
}

// channel is the topic's channel; its hash tag is its cluster partition
// (the directory's is partition 0's).
func (b *Bus) channel(t Topic) string {
	switch {
	case t.Directory:
		return b.tag(partitionOf(t)) + "directory"
	case t.User != 0:
		return b.tag(partitionOf(t)) + "user:" + strconv.FormatInt(t.User, 10)
	}
	return b.tag(partitionOf(t)) + "room:" + strconv.FormatInt(t.Room, 10)
}

// partOf is the partition whose connection carries t.
func (b *Bus) partOf(t Topic) *partition {
	if !b.sharded {
		return b.parts[0]
	}
	return b.parts[partitionOf(t)]
}

// Publish sends an event to the processes listening to its topic.
func (b *Bus) Publish(ctx context.Context, e chat.Event) error {
	payload, err := proto.Marshal(protoconv.Event(e))
	if err != nil {
		return err
	}
	return b.publish(ctx, e.Topic(), kindEvent, payload)
}

// SessionEnded tells the processes holding the user's connections to close
// the session's.
func (b *Bus) SessionEnded(ctx context.Context, userID int64, sessionID string) error {
	return b.publish(ctx, Topic{User: userID}, kindSessionEnded, []byte(sessionID))
}

func (b *Bus) publish(ctx context.Context, t Topic, kind byte, payload []byte) error {
	msg := rueidis.BinaryString(append([]byte{kind}, payload...))
	cmd := b.rdb.B().Publish().Channel(b.channel(t)).Message(msg).Build()
	if b.sharded {
		cmd = b.rdb.B().Spublish().Channel(b.channel(t)).Message(msg).Build()
	}
	if err := b.rdb.Do(ctx, cmd).Error(); err != nil {
		return err
	}
	b.stats.MessagesPublished.Add(1)
	b.stats.BytesPublished.Add(int64(len(msg)))
	return nil
}

// Watch subscribes to t, soon: the hub needs it (a connection of this
// process is in the room, or is the user). Await tells when it is live.
// Watching a watched topic changes nothing; Watch never blocks.
func (b *Bus) Watch(t Topic) { b.partOf(t).want(t, true) }

// Await returns once every topic is subscribed, so that every event
// published from then on reaches the dispatcher, or with ctx's error. A
// connection reads its cursors after it: what was published before is in
// the store.
func (b *Bus) Await(ctx context.Context, topics []Topic) error {
	for _, t := range topics {
		if err := b.partOf(t).await(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// Unwatch unsubscribes from t: the hub's last connection that needed it
// has gone.
func (b *Bus) Unwatch(t Topic) { b.partOf(t).want(t, false) }

// Live reports whether every subscription connection is up: every event
// published since reaches the dispatcher.
func (b *Bus) Live() bool {
	for _, p := range b.parts {
		if !p.live.Load() {
			return false
		}
	}
	return true
}

// Run subscribes until ctx ends, one connection per partition, handing d
// what arrives. After every (re)subscription d resyncs the topics it names
// from the store, so events published while they were not live are not
// missed.
func (b *Bus) Run(ctx context.Context, d Dispatcher) {
	var wg sync.WaitGroup
	for _, p := range b.parts {
		wg.Go(func() { p.run(ctx, d) })
	}
	wg.Wait()
}

func (b *Bus) receive(d Dispatcher, m rueidis.PubSubMessage) {
	b.stats.MessagesReceived.Add(1)
	b.stats.BytesReceived.Add(int64(len(m.Message)))
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
