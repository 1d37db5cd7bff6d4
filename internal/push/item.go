// Package push delivers live events to this process's connections, whatever
// their transport: it routes each event to the connections of its room, in
// the room's seq order, through a bounded queue per connection that never
// blocks the others, and resumes each connection from the last seq it saw
// per room, with no gap and no duplicate: missed messages are read from the
// store. It knows events only as chat.Event; the transports (internal/ws,
// the Subscribe stream in internal/rpc) make the wire form, once per event.
package push

import (
	"sync"

	"github.com/parley-chat/parley/internal/chat"
)

// WireKey names one transport's encoding of an event in an item's cache.
type WireKey uint8

// The transports that send events, each with its slot.
const (
	// WireWebSocket is internal/ws's ServerFrame{event}, as JSON.
	WireWebSocket WireKey = iota
	// WireWebSocketProto is the same frame as protobuf, for binary
	// subprotocols.
	WireWebSocketProto
	// WireStream is internal/rpc's chatv1.Event for Subscribe streams.
	WireStream
	wireSlots
)

// Item is one event on its way to many connections. Each transport encodes
// it once, by whichever connection needs it first, into the item's cache,
// and every other connection of the transport shares that.
type Item struct {
	ev    chat.Event
	wires [wireSlots]wire
	// batch, when set, makes the item a group of one connection's presence
	// events (see queue), sent in order in its place; ev is the first's.
	batch []*Item
}

// wire is one cached encoding.
type wire struct {
	once sync.Once
	val  any
	err  error
}

func newItem(ev chat.Event) *Item { return &Item{ev: ev} }

// Event is the item's event.
func (it *Item) Event() chat.Event { return it.ev }

// Wire is the item's encoding for transport k: encode's result, computed
// once per item and shared.
func (it *Item) Wire(k WireKey, encode func(chat.Event) (any, error)) (any, error) {
	w := &it.wires[k]
	w.once.Do(func() { w.val, w.err = encode(it.ev) })
	return w.val, w.err
}

// isLogged tells an entry of the room's log, which goes out in seq order.
func (it *Item) isLogged() bool { return it.ev.Kind.Logged() }

// presence names the user and state of a presence event.
func (it *Item) presence() (uid int64, online, ok bool) {
	if it.ev.Kind != chat.PresenceChanged {
		return 0, false, false
	}
	return it.ev.UserID, it.ev.Online, true
}

// member names the user of a membership event.
func (it *Item) member() (uid int64, ok bool) {
	switch it.ev.Kind {
	case chat.MemberJoined:
		return it.ev.Member.User.ID, true
	case chat.MemberLeft:
		return it.ev.UserID, true
	}
	return 0, false
}
