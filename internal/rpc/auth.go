package rpc

import (
	"context"
	"log/slog"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protoconv"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// AuthHandler serves chat.v1.AuthService.
type AuthHandler struct {
	auth *auth.Service
	log  *slog.Logger
}

var _ chatv1connect.AuthServiceHandler = (*AuthHandler)(nil)

// NewAuthHandler wraps the auth service.
func NewAuthHandler(a *auth.Service, log *slog.Logger) *AuthHandler {
	return &AuthHandler{auth: a, log: log}
}

// Register creates an account.
func (h *AuthHandler) Register(ctx context.Context, req *chatv1.RegisterRequest) (*chatv1.RegisterResponse, error) {
	u, err := h.auth.Register(ctx, req.GetUsername(), req.GetEmail(), req.GetPassword())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.RegisterResponse{User: protoconv.User(u, true)}, nil
}

// Login starts a session.
func (h *AuthHandler) Login(ctx context.Context, req *chatv1.LoginRequest) (*chatv1.LoginResponse, error) {
	u, t, err := h.auth.Login(ctx, req.GetLogin(), req.GetPassword())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.LoginResponse{
		AccessToken: t.Access, RefreshToken: t.Refresh,
		AccessExpiresAt: timestamppb.New(t.AccessExpiresAt), User: protoconv.User(u, true),
	}, nil
}

// Refresh rotates the refresh token.
func (h *AuthHandler) Refresh(ctx context.Context, req *chatv1.RefreshRequest) (*chatv1.RefreshResponse, error) {
	t, err := h.auth.Refresh(ctx, req.GetRefreshToken())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.RefreshResponse{AccessToken: t.Access, RefreshToken: t.Refresh, AccessExpiresAt: timestamppb.New(t.AccessExpiresAt)}, nil
}

// Logout ends the caller's session.
func (h *AuthHandler) Logout(ctx context.Context, _ *chatv1.LogoutRequest) (*chatv1.LogoutResponse, error) {
	if err := h.auth.Logout(ctx, caller(ctx)); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.LogoutResponse{}, nil
}

// ChangePassword replaces the password and ends the other sessions.
func (h *AuthHandler) ChangePassword(ctx context.Context, req *chatv1.ChangePasswordRequest) (*chatv1.ChangePasswordResponse, error) {
	if err := h.auth.ChangePassword(ctx, caller(ctx), req.GetCurrentPassword(), req.GetNewPassword()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.ChangePasswordResponse{}, nil
}

// GetMe returns the caller's own user.
func (h *AuthHandler) GetMe(ctx context.Context, _ *chatv1.GetMeRequest) (*chatv1.GetMeResponse, error) {
	u, err := h.auth.User(ctx, caller(ctx).UserID)
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.GetMeResponse{User: protoconv.User(u, true)}, nil
}
