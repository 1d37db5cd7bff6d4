// Package push delivers live events to WebSocket connections and Subscribe
// streams, fanning out across chatd processes through Redis pub/sub
// (rueidis). Each connection resumes from the last seq it saw per room and
// never sees a gap or a duplicate: missed messages are read from the store.
package push

import (
	"sync"

	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// item is one event on its way to many connections. Its WebSocket frame is
// encoded once, by whichever connection needs it first, and shared.
type item struct {
	ev       *chatv1.Event
	once     sync.Once
	frame    []byte
	frameErr error
	// batch, when set, makes the item a group of one connection's presence
	// events (see queue), sent in order in its place; ev is the first's.
	batch []*item
}

func newItem(ev *chatv1.Event) *item { return &item{ev: ev} }

// jsonFrame is the ServerFrame{event} a WebSocket client receives.
func (it *item) jsonFrame() ([]byte, error) {
	it.once.Do(func() {
		it.frame, it.frameErr = protojson.Marshal(&chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Event{Event: it.ev}})
	})
	return it.frame, it.frameErr
}

func (it *item) isMessage() bool { return it.ev.GetMessageCreated() != nil }

// presence names the user and state of a presence event.
func (it *item) presence() (uid int64, online, ok bool) {
	p := it.ev.GetPresenceChanged()
	return p.GetUserId(), p.GetOnline(), p != nil
}

// member names the user of a membership event.
func (it *item) member() (uid int64, ok bool) {
	if mj := it.ev.GetMemberJoined(); mj != nil {
		return mj.GetMember().GetUser().GetId(), true
	}
	if ml := it.ev.GetMemberLeft(); ml != nil {
		return ml.GetUserId(), true
	}
	return 0, false
}
