package rpc

import (
	"log/slog"

	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/chat"
)

// FriendHandler serves chat.v1.FriendService: friends, requests, blocks.
type FriendHandler struct {
	chat *chat.Service
	log  *slog.Logger
}

var _ chatv1connect.FriendServiceHandler = (*FriendHandler)(nil)

// NewFriendHandler wraps the chat service.
func NewFriendHandler(c *chat.Service, log *slog.Logger) *FriendHandler {
	return &FriendHandler{chat: c, log: log}
}
