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

// URLSigner mints attachments' download URLs for a session (files.Signer).
type URLSigner interface {
	SignMessages(sessionID string, msgs ...*chatv1.Message)
}

// MessageHandler serves chat.v1.MessageService.
type MessageHandler struct {
	chat  *chat.Service
	feeds Feeds
	urls  URLSigner
	log   *slog.Logger
}

var _ chatv1connect.MessageServiceHandler = (*MessageHandler)(nil)

// NewMessageHandler wraps the chat service and the live feeds; urls signs
// the attachments of the messages it answers with.
func NewMessageHandler(c *chat.Service, feeds Feeds, urls URLSigner, log *slog.Logger) *MessageHandler {
	return &MessageHandler{chat: c, feeds: feeds, urls: urls, log: log}
}

// SendMessage stores a message, idempotently per client_msg_id.
func (h *MessageHandler) SendMessage(ctx context.Context, req *chatv1.SendMessageRequest) (*chatv1.SendMessageResponse, error) {
	msg, err := h.chat.SendMessage(ctx, chat.NewMessage{
		RoomID: req.GetRoomId(), SenderID: caller(ctx).UserID, Body: req.GetBody(), ClientMsgID: req.GetClientMsgId(),
		ReplyToSeq: req.GetReplyToSeq(), AttachmentIDs: req.GetAttachmentIds(),
	})
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	pb := protoconv.Message(msg)
	h.urls.SignMessages(caller(ctx).SessionID, pb)
	return &chatv1.SendMessageResponse{Message: pb}, nil
}

// ListMessages pages through history.
func (h *MessageHandler) ListMessages(ctx context.Context, req *chatv1.ListMessagesRequest) (*chatv1.ListMessagesResponse, error) {
	msgs, more, err := h.chat.ListMessages(ctx, caller(ctx).UserID, req.GetRoomId(), chat.Page{
		BeforeSeq: req.GetBeforeSeq(), AfterSeq: req.GetAfterSeq(), FromAfter: req.AfterSeq != nil, AroundSeq: req.GetAroundSeq(),
		Limit: int(req.GetLimit()),
	})
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	// The caller is a member of the room (ListMessages checked), so may
	// fetch its files: each URL is minted for the caller's session.
	pbs := protoconv.Messages(msgs)
	h.urls.SignMessages(caller(ctx).SessionID, pbs...)
	return &chatv1.ListMessagesResponse{Messages: pbs, HasMore: more}, nil
}

// SearchMessages finds messages in the caller's rooms.
func (h *MessageHandler) SearchMessages(ctx context.Context, req *chatv1.SearchMessagesRequest) (*chatv1.SearchMessagesResponse, error) {
	hits, next, err := h.chat.SearchMessages(ctx, caller(ctx).UserID, protoconv.SearchRequest(req))
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	pbs := protoconv.SearchHits(hits)
	msgs := make([]*chatv1.Message, len(pbs))
	for i, h := range pbs {
		msgs[i] = h.GetMessage()
	}
	h.urls.SignMessages(caller(ctx).SessionID, msgs...)
	return &chatv1.SearchMessagesResponse{Hits: pbs, NextPageToken: next}, nil
}

// EditMessage replaces the body of one of the caller's messages.
func (h *MessageHandler) EditMessage(ctx context.Context, req *chatv1.EditMessageRequest) (*chatv1.EditMessageResponse, error) {
	msg, err := h.chat.EditMessage(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetMessageSeq(), req.GetBody())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	pb := protoconv.Message(msg)
	h.urls.SignMessages(caller(ctx).SessionID, pb)
	return &chatv1.EditMessageResponse{Message: pb}, nil
}

// DeleteMessage turns a message into a tombstone.
func (h *MessageHandler) DeleteMessage(ctx context.Context, req *chatv1.DeleteMessageRequest) (*chatv1.DeleteMessageResponse, error) {
	if err := h.chat.DeleteMessage(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetMessageSeq()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.DeleteMessageResponse{}, nil
}

// ListEdits returns a message's earlier bodies.
func (h *MessageHandler) ListEdits(ctx context.Context, req *chatv1.ListEditsRequest) (*chatv1.ListEditsResponse, error) {
	edits, err := h.chat.ListEdits(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetMessageSeq())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.ListEditsResponse{Edits: protoconv.Edits(edits)}, nil
}

// AddReaction adds the caller's reaction.
func (h *MessageHandler) AddReaction(ctx context.Context, req *chatv1.AddReactionRequest) (*chatv1.AddReactionResponse, error) {
	if err := h.chat.React(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetMessageSeq(), req.GetEmoji(), true); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.AddReactionResponse{}, nil
}

// RemoveReaction takes the caller's reaction back.
func (h *MessageHandler) RemoveReaction(ctx context.Context, req *chatv1.RemoveReactionRequest) (*chatv1.RemoveReactionResponse, error) {
	if err := h.chat.React(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetMessageSeq(), req.GetEmoji(), false); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.RemoveReactionResponse{}, nil
}

// ListEvents pages through the room's log.
func (h *MessageHandler) ListEvents(ctx context.Context, req *chatv1.ListEventsRequest) (*chatv1.ListEventsResponse, error) {
	events, more, err := h.chat.ListEvents(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetAfterSeq(), int(req.GetLimit()))
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	out := make([]*chatv1.Event, len(events))
	for i, e := range events {
		out[i] = protoconv.Event(e)
	}
	return &chatv1.ListEventsResponse{Events: out, HasMore: more}, nil
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
