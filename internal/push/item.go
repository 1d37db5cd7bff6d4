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
