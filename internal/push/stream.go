package push

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
)

// streamSink writes to a MessageService.Subscribe stream.
type streamSink struct {
	send func(*chatv1.SubscribeResponse) error
}

func (s streamSink) event(_ context.Context, it *item) error {
	return s.send(&chatv1.SubscribeResponse{Kind: &chatv1.SubscribeResponse_Event{Event: it.ev}})
}

// flush has nothing to do: each Send is written out by connect.
func (s streamSink) flush() error { return nil }

func (s streamSink) frame(_ context.Context, f *chatv1.ServerFrame) error {
	switch k := f.GetKind().(type) {
	case *chatv1.ServerFrame_Ready:
		return s.send(&chatv1.SubscribeResponse{Kind: &chatv1.SubscribeResponse_Ready{Ready: k.Ready}})
	case *chatv1.ServerFrame_Reconnect:
		return s.send(&chatv1.SubscribeResponse{Kind: &chatv1.SubscribeResponse_Reconnect{Reconnect: k.Reconnect}})
	case *chatv1.ServerFrame_Error:
		return connect.NewError(codeOf(k.Error.GetCode()), errors.New(k.Error.GetMessage()))
	}
	return nil
}

func codeOf(name string) connect.Code {
	var c connect.Code
	if err := c.UnmarshalText([]byte(name)); err != nil {
		return connect.CodeUnknown
	}
	return c
}

// Subscribe serves MessageService.Subscribe: Ready, the replay of the
// resumed rooms, then live events until the client goes away.
func (h *Hub) Subscribe(ctx context.Context, p auth.Principal, resume []*chatv1.RoomCursor, send func(*chatv1.SubscribeResponse) error) error {
	f, ready, err := h.open(ctx, newConnID(), p)
	if err != nil {
		return err
	}
	defer h.close(f)
	s := streamSink{send: send}
	if err := s.frame(ctx, &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Ready{Ready: ready}}); err != nil {
		return err
	}
	if err := f.resume(ctx, s, resume); err != nil {
		return err
	}
	err = f.run(ctx, s)
	if errors.Is(err, errFeedKilled) {
		return nil
	}
	return err
}
