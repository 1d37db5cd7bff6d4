package rpc

import (
	"context"
	"log/slog"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
)

// UserHandler serves chat.v1.UserService: the caller's own settings.
type UserHandler struct {
	chat *chat.Service
	log  *slog.Logger
}

var _ chatv1connect.UserServiceHandler = (*UserHandler)(nil)

// NewUserHandler wraps the chat service.
func NewUserHandler(c *chat.Service, log *slog.Logger) *UserHandler {
	return &UserHandler{chat: c, log: log}
}

// GetSettings returns the caller's settings.
func (h *UserHandler) GetSettings(ctx context.Context, _ *chatv1.GetSettingsRequest) (*chatv1.GetSettingsResponse, error) {
	set, err := h.chat.Settings(ctx, caller(ctx).UserID)
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.GetSettingsResponse{Settings: protoconv.Settings(set)}, nil
}

// UpdateSettings changes the settings set in the request.
func (h *UserHandler) UpdateSettings(ctx context.Context, req *chatv1.UpdateSettingsRequest) (*chatv1.UpdateSettingsResponse, error) {
	set, err := h.chat.UpdateSettings(ctx, caller(ctx).UserID, chat.SettingsUpdate{ShareReadReceipts: req.ShareReadReceipts})
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.UpdateSettingsResponse{Settings: protoconv.Settings(set)}, nil
}
