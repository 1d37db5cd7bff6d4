package rpc

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
	"github.com/parley-chat/parley/internal/push"
)

// Feeds opens live connections; push.Hub fills it.
type Feeds interface {
	Open(ctx context.Context, id string, p auth.Principal, resume []push.Cursor) (*push.Feed, error)
}

// MessageHandler serves chat.v1.MessageService.
type MessageHandler struct {
	chatv1connect.UnimplementedMessageServiceHandler // until issue 15's handlers land
	chat                                             *chat.Service
	feeds                                            Feeds
	log                                              *slog.Logger
}

var _ chatv1connect.MessageServiceHandler = (*MessageHandler)(nil)

// NewMessageHandler wraps the chat service and the live feeds.
func NewMessageHandler(c *chat.Service, feeds Feeds, log *slog.Logger) *MessageHandler {
	return &MessageHandler{chat: c, feeds: feeds, log: log}
}

// SendMessage stores a message, idempotently per client_msg_id.
func (h *MessageHandler) SendMessage(ctx context.Context, req *chatv1.SendMessageRequest) (*chatv1.SendMessageResponse, error) {
	msg, err := h.chat.SendMessage(ctx, chat.NewMessage{
		RoomID: req.GetRoomId(), SenderID: caller(ctx).UserID, Body: req.GetBody(), ClientMsgID: req.GetClientMsgId(),
	})
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.SendMessageResponse{Message: protoconv.Message(msg)}, nil
}

// ListMessages pages through history.
func (h *MessageHandler) ListMessages(ctx context.Context, req *chatv1.ListMessagesRequest) (*chatv1.ListMessagesResponse, error) {
	msgs, more, err := h.chat.ListMessages(ctx, caller(ctx).UserID, req.GetRoomId(), chat.Page{
		BeforeSeq: req.GetBeforeSeq(), AfterSeq: req.GetAfterSeq(), FromAfter: req.AfterSeq != nil, Limit: int(req.GetLimit()),
	})
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.ListMessagesResponse{Messages: protoconv.Messages(msgs), HasMore: more}, nil
}

// SendTyping relays a typing hint.
func (h *MessageHandler) SendTyping(ctx context.Context, req *chatv1.SendTypingRequest) (*chatv1.SendTypingResponse, error) {
	if err := h.chat.Typing(ctx, caller(ctx).UserID, req.GetRoomId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.SendTypingResponse{}, nil
}

// Subscribe streams Ready, the replay of the rooms the request resumes,
// then live events until the client goes away or the server ends it.
func (h *MessageHandler) Subscribe(ctx context.Context, req *chatv1.SubscribeRequest, stream *connect.ServerStream[chatv1.SubscribeResponse]) error {
	err := h.subscribe(ctx, req, streamSink{send: stream.Send})
	if ctx.Err() != nil || errors.Is(err, push.ErrEnded) {
		return nil
	}
	return ToConnect(ctx, h.log, err)
}

func (h *MessageHandler) subscribe(ctx context.Context, req *chatv1.SubscribeRequest, s streamSink) error {
	f, err := h.feeds.Open(ctx, push.NewConnID(), caller(ctx), protoconv.Cursors(req.GetResume()))
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Run(ctx, s)
}
