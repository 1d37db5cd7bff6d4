package rpc

// Issue 16's RPCs not built yet: each answers unimplemented until its
// handler replaces it here. This file goes once it is empty.

import (
	"context"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

func notYet() error { return connect.NewError(connect.CodeUnimplemented, nil) }

func (h *AuthHandler) ListSessions(context.Context, *chatv1.ListSessionsRequest) (*chatv1.ListSessionsResponse, error) {
	return nil, notYet()
}

func (h *AuthHandler) RevokeSession(context.Context, *chatv1.RevokeSessionRequest) (*chatv1.RevokeSessionResponse, error) {
	return nil, notYet()
}

func (h *UserHandler) GetUser(context.Context, *chatv1.GetUserRequest) (*chatv1.GetUserResponse, error) {
	return nil, notYet()
}

func (h *UserHandler) SearchUsers(context.Context, *chatv1.SearchUsersRequest) (*chatv1.SearchUsersResponse, error) {
	return nil, notYet()
}

func (h *UserHandler) UpdateProfile(context.Context, *chatv1.UpdateProfileRequest) (*chatv1.UpdateProfileResponse, error) {
	return nil, notYet()
}

func (h *FriendHandler) SendFriendRequest(context.Context, *chatv1.SendFriendRequestRequest) (*chatv1.SendFriendRequestResponse, error) {
	return nil, notYet()
}

func (h *FriendHandler) RespondFriendRequest(context.Context, *chatv1.RespondFriendRequestRequest) (*chatv1.RespondFriendRequestResponse, error) {
	return nil, notYet()
}

func (h *FriendHandler) CancelFriendRequest(context.Context, *chatv1.CancelFriendRequestRequest) (*chatv1.CancelFriendRequestResponse, error) {
	return nil, notYet()
}

func (h *FriendHandler) RemoveFriend(context.Context, *chatv1.RemoveFriendRequest) (*chatv1.RemoveFriendResponse, error) {
	return nil, notYet()
}

func (h *FriendHandler) ListFriends(context.Context, *chatv1.ListFriendsRequest) (*chatv1.ListFriendsResponse, error) {
	return nil, notYet()
}

func (h *FriendHandler) BlockUser(context.Context, *chatv1.BlockUserRequest) (*chatv1.BlockUserResponse, error) {
	return nil, notYet()
}

func (h *FriendHandler) UnblockUser(context.Context, *chatv1.UnblockUserRequest) (*chatv1.UnblockUserResponse, error) {
	return nil, notYet()
}

func (h *FriendHandler) ListBlocked(context.Context, *chatv1.ListBlockedRequest) (*chatv1.ListBlockedResponse, error) {
	return nil, notYet()
}
