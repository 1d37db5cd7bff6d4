package rpc

import (
	"context"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
	"github.com/parley-chat/parley/internal/push"
)

// streamSink writes a live connection to a MessageService.Subscribe stream.
type streamSink struct {
	send func(*chatv1.SubscribeResponse) error
}

var _ push.Sink = streamSink{}

func (s streamSink) Ready(_ context.Context, r push.Ready) error {
	return s.send(&chatv1.SubscribeResponse{Kind: &chatv1.SubscribeResponse_Ready{Ready: protoconv.Ready(r)}})
}

// Event sends the item's chatv1.Event, converted once for every stream.
func (s streamSink) Event(_ context.Context, it *push.Item) error {
	ev, err := it.Wire(push.WireStream, func(e chat.Event) (any, error) { return protoconv.Event(e), nil })
	if err != nil {
		return err
	}
	return s.send(&chatv1.SubscribeResponse{Kind: &chatv1.SubscribeResponse_Event{Event: ev.(*chatv1.Event)}})
}

// Error ends the stream with err: a stream has no frame for a failed
// request, and its only request is the resume it was opened with.
func (s streamSink) Error(_ context.Context, err error) error { return err }

// Fail ends the stream with err's code.
func (s streamSink) Fail(_ context.Context, err error) error { return err }

func (s streamSink) Reconnect(_ context.Context, delay time.Duration, reason string) error {
	return s.send(&chatv1.SubscribeResponse{Kind: &chatv1.SubscribeResponse_Reconnect{Reconnect: &chatv1.Reconnect{
		DelayMs: delay.Milliseconds(), Reason: reason,
	}}})
}

// Flush has nothing to do: each Send is written out by connect.
func (s streamSink) Flush() error { return nil }
