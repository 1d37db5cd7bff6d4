package rpc

// Issue 17's RPCs not built yet: each answers unimplemented until its
// handler replaces it here. This file goes once it is empty.

import (
	"context"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

func notYet() error { return connect.NewError(connect.CodeUnimplemented, nil) }

func (h *MessageHandler) SearchMessages(context.Context, *chatv1.SearchMessagesRequest) (*chatv1.SearchMessagesResponse, error) {
	return nil, notYet()
}
