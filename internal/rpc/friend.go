package rpc

import (
	"context"
	"log/slog"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
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

// SendFriendRequest asks a user to be the caller's friend.
func (h *FriendHandler) SendFriendRequest(ctx context.Context, req *chatv1.SendFriendRequestRequest) (*chatv1.SendFriendRequestResponse, error) {
	friends, err := h.chat.SendFriendRequest(ctx, caller(ctx).UserID, req.GetUsername())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.SendFriendRequestResponse{Friends: friends}, nil
}

// RespondFriendRequest accepts or declines a request the caller received.
func (h *FriendHandler) RespondFriendRequest(ctx context.Context, req *chatv1.RespondFriendRequestRequest) (*chatv1.RespondFriendRequestResponse, error) {
	if err := h.chat.RespondFriendRequest(ctx, caller(ctx).UserID, req.GetUserId(), req.GetAccept()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.RespondFriendRequestResponse{}, nil
}

// CancelFriendRequest takes back the caller's request.
func (h *FriendHandler) CancelFriendRequest(ctx context.Context, req *chatv1.CancelFriendRequestRequest) (*chatv1.CancelFriendRequestResponse, error) {
	if err := h.chat.CancelFriendRequest(ctx, caller(ctx).UserID, req.GetUserId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.CancelFriendRequestResponse{}, nil
}

// RemoveFriend ends a friendship.
func (h *FriendHandler) RemoveFriend(ctx context.Context, req *chatv1.RemoveFriendRequest) (*chatv1.RemoveFriendResponse, error) {
	if err := h.chat.RemoveFriend(ctx, caller(ctx).UserID, req.GetUserId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.RemoveFriendResponse{}, nil
}

// ListFriends returns the caller's friends, online or not, and requests.
func (h *FriendHandler) ListFriends(ctx context.Context, _ *chatv1.ListFriendsRequest) (*chatv1.ListFriendsResponse, error) {
	list, err := h.chat.ListFriends(ctx, caller(ctx).UserID)
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	res := &chatv1.ListFriendsResponse{
		Friends:  make([]*chatv1.Friend, len(list.Friends)),
		Incoming: make([]*chatv1.FriendRequest, len(list.Incoming)),
		Outgoing: make([]*chatv1.FriendRequest, len(list.Outgoing)),
	}
	for i, f := range list.Friends {
		res.Friends[i] = protoconv.Friend(f)
	}
	for i, r := range list.Incoming {
		res.Incoming[i] = protoconv.FriendRequest(r)
	}
	for i, r := range list.Outgoing {
		res.Outgoing[i] = protoconv.FriendRequest(r)
	}
	return res, nil
}

// BlockUser blocks a user for the caller.
func (h *FriendHandler) BlockUser(ctx context.Context, req *chatv1.BlockUserRequest) (*chatv1.BlockUserResponse, error) {
	if err := h.chat.BlockUser(ctx, caller(ctx).UserID, req.GetUserId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.BlockUserResponse{}, nil
}

// UnblockUser lifts the caller's block of a user.
func (h *FriendHandler) UnblockUser(ctx context.Context, req *chatv1.UnblockUserRequest) (*chatv1.UnblockUserResponse, error) {
	if err := h.chat.UnblockUser(ctx, caller(ctx).UserID, req.GetUserId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.UnblockUserResponse{}, nil
}

// ListBlocked returns the users the caller blocked.
func (h *FriendHandler) ListBlocked(ctx context.Context, _ *chatv1.ListBlockedRequest) (*chatv1.ListBlockedResponse, error) {
	users, err := h.chat.ListBlocked(ctx, caller(ctx).UserID)
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.ListBlockedResponse{Users: protoconv.Users(users)}, nil
}
