package rpc

// Issue 16's RPCs not built yet: each answers unimplemented until its
// handler replaces it here. This file goes once it is empty.

import (
	"context"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

func notYet() error { return connect.NewError(connect.CodeUnimplemented, nil) }

func (h *RoomHandler) OpenDirect(context.Context, *chatv1.OpenDirectRequest) (*chatv1.OpenDirectResponse, error) {
	return nil, notYet()
}

func (h *RoomHandler) HideRoom(context.Context, *chatv1.HideRoomRequest) (*chatv1.HideRoomResponse, error) {
	return nil, notYet()
}

func (h *RoomHandler) UpdateRoom(context.Context, *chatv1.UpdateRoomRequest) (*chatv1.UpdateRoomResponse, error) {
	return nil, notYet()
}
