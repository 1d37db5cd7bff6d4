package rpc

import (
	"context"
	"log/slog"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
)

// UserHandler serves chat.v1.UserService: finding people, the caller's
// own profile and settings.
type UserHandler struct {
	chat    *chat.Service
	avatars Avatars
	log     *slog.Logger
}

// Avatars makes profile pictures from uploads (files.Files).
type Avatars interface {
	// MakeAvatar stores a picture made from the user's image upload and
	// returns its key.
	MakeAvatar(ctx context.Context, userID int64, uploadID string) (string, error)
}

var _ chatv1connect.UserServiceHandler = (*UserHandler)(nil)

// NewUserHandler wraps the chat service and the avatar maker.
func NewUserHandler(c *chat.Service, avatars Avatars, log *slog.Logger) *UserHandler {
	return &UserHandler{chat: c, avatars: avatars, log: log}
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
	up := chat.SettingsUpdate{ShareReadReceipts: req.ShareReadReceipts}
	if req.DmPolicy != nil {
		p := chat.DmPolicy(req.GetDmPolicy())
		up.DmPolicy = &p
	}
	set, err := h.chat.UpdateSettings(ctx, caller(ctx).UserID, up)
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.UpdateSettingsResponse{Settings: protoconv.Settings(set)}, nil
}

// GetUser returns a user's public profile, by id or username.
func (h *UserHandler) GetUser(ctx context.Context, req *chatv1.GetUserRequest) (*chatv1.GetUserResponse, error) {
	var u chat.User
	var err error
	if id := req.GetUserId(); id != 0 {
		u, err = h.chat.User(ctx, id)
	} else {
		u, err = h.chat.UserByUsername(ctx, req.GetUsername())
	}
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.GetUserResponse{User: protoconv.User(u, u.ID == caller(ctx).UserID)}, nil
}

// SearchUsers finds users by the start of their username or display name.
func (h *UserHandler) SearchUsers(ctx context.Context, req *chatv1.SearchUsersRequest) (*chatv1.SearchUsersResponse, error) {
	users, err := h.chat.SearchUsers(ctx, caller(ctx).UserID, req.GetQuery(), int(req.GetLimit()))
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.SearchUsersResponse{Users: protoconv.Users(users)}, nil
}

// UpdateProfile changes the caller's display name, status and picture.
func (h *UserHandler) UpdateProfile(ctx context.Context, req *chatv1.UpdateProfileRequest) (*chatv1.UpdateProfileResponse, error) {
	up := chat.ProfileUpdate{DisplayName: req.DisplayName, StatusText: req.StatusText}
	if req.AvatarUploadId != nil {
		var key string // empty clears the picture
		if id := req.GetAvatarUploadId(); id != "" {
			var err error
			if key, err = h.avatars.MakeAvatar(ctx, caller(ctx).UserID, id); err != nil {
				return nil, ToConnect(ctx, h.log, err)
			}
		}
		up.Avatar = &key
	}
	u, err := h.chat.UpdateProfile(ctx, caller(ctx).UserID, up)
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.UpdateProfileResponse{User: protoconv.User(u, true)}, nil
}
