package rpc

import (
	"context"
	"log/slog"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
)

// RoomHandler serves chat.v1.RoomService.
type RoomHandler struct {
	chat *chat.Service
	log  *slog.Logger
}

var _ chatv1connect.RoomServiceHandler = (*RoomHandler)(nil)

// NewRoomHandler wraps the chat service.
func NewRoomHandler(c *chat.Service, log *slog.Logger) *RoomHandler {
	return &RoomHandler{chat: c, log: log}
}

// ListRooms lists the rooms the caller can see.
func (h *RoomHandler) ListRooms(ctx context.Context, _ *chatv1.ListRoomsRequest) (*chatv1.ListRoomsResponse, error) {
	rooms, err := h.chat.ListRooms(ctx, caller(ctx).UserID)
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	out := make([]*chatv1.Room, len(rooms))
	for i, r := range rooms {
		out[i] = protoconv.Room(r)
	}
	return &chatv1.ListRoomsResponse{Rooms: out}, nil
}

// CreateRoom creates a room owned by the caller.
func (h *RoomHandler) CreateRoom(ctx context.Context, req *chatv1.CreateRoomRequest) (*chatv1.CreateRoomResponse, error) {
	room, err := h.chat.CreateRoom(ctx, chat.NewRoom{
		Name: req.GetName(), Topic: req.GetTopic(), Visibility: chat.Visibility(req.GetVisibility()), OwnerID: caller(ctx).UserID,
	})
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.CreateRoomResponse{Room: protoconv.Room(room)}, nil
}

// JoinRoom joins a public room.
func (h *RoomHandler) JoinRoom(ctx context.Context, req *chatv1.JoinRoomRequest) (*chatv1.JoinRoomResponse, error) {
	room, err := h.chat.JoinRoom(ctx, caller(ctx).UserID, req.GetRoomId())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.JoinRoomResponse{Room: protoconv.Room(room)}, nil
}

// LeaveRoom leaves a room.
func (h *RoomHandler) LeaveRoom(ctx context.Context, req *chatv1.LeaveRoomRequest) (*chatv1.LeaveRoomResponse, error) {
	if err := h.chat.LeaveRoom(ctx, caller(ctx).UserID, req.GetRoomId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.LeaveRoomResponse{}, nil
}

// ListMembers lists a room's members with presence.
func (h *RoomHandler) ListMembers(ctx context.Context, req *chatv1.ListMembersRequest) (*chatv1.ListMembersResponse, error) {
	members, err := h.chat.ListMembers(ctx, caller(ctx).UserID, req.GetRoomId())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	out := make([]*chatv1.Member, len(members))
	for i, m := range members {
		out[i] = protoconv.Member(m)
	}
	return &chatv1.ListMembersResponse{Members: out}, nil
}

// AddMember adds a user to a room the caller owns.
func (h *RoomHandler) AddMember(ctx context.Context, req *chatv1.AddMemberRequest) (*chatv1.AddMemberResponse, error) {
	m, err := h.chat.AddMember(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetUsername())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.AddMemberResponse{Member: protoconv.Member(m)}, nil
}

// RemoveMember removes a member from a room the caller owns.
func (h *RoomHandler) RemoveMember(ctx context.Context, req *chatv1.RemoveMemberRequest) (*chatv1.RemoveMemberResponse, error) {
	if err := h.chat.RemoveMember(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetUserId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.RemoveMemberResponse{}, nil
}

// MarkRead moves the caller's read watermark forward.
func (h *RoomHandler) MarkRead(ctx context.Context, req *chatv1.MarkReadRequest) (*chatv1.MarkReadResponse, error) {
	seq, err := h.chat.MarkRead(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetSeq())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.MarkReadResponse{ReadSeq: seq}, nil
}

// MarkUnread puts the caller's read watermark just before a message.
func (h *RoomHandler) MarkUnread(ctx context.Context, req *chatv1.MarkUnreadRequest) (*chatv1.MarkUnreadResponse, error) {
	seq, err := h.chat.MarkUnread(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetSeq())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.MarkUnreadResponse{ReadSeq: seq}, nil
}

// ListReadReceipts says how far the members who share receipts have read.
func (h *RoomHandler) ListReadReceipts(ctx context.Context, req *chatv1.ListReadReceiptsRequest) (*chatv1.ListReadReceiptsResponse, error) {
	receipts, err := h.chat.ListReadReceipts(ctx, caller(ctx).UserID, req.GetRoomId())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	out := make([]*chatv1.ReadReceipt, len(receipts))
	for i, r := range receipts {
		out[i] = protoconv.Receipt(r)
	}
	return &chatv1.ListReadReceiptsResponse{Receipts: out}, nil
}

// SetMuted mutes or unmutes a room for the caller.
func (h *RoomHandler) SetMuted(ctx context.Context, req *chatv1.SetMutedRequest) (*chatv1.SetMutedResponse, error) {
	room, err := h.chat.SetMuted(ctx, caller(ctx).UserID, req.GetRoomId(), req.GetMuted())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.SetMutedResponse{Room: protoconv.Room(room)}, nil
}

// OpenDirect opens the caller's direct or group room with the users named.
func (h *RoomHandler) OpenDirect(ctx context.Context, req *chatv1.OpenDirectRequest) (*chatv1.OpenDirectResponse, error) {
	room, err := h.chat.OpenDirect(ctx, caller(ctx).UserID, req.GetUsernames())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.OpenDirectResponse{Room: protoconv.Room(room)}, nil
}

// HideRoom takes a direct or group room off the caller's list.
func (h *RoomHandler) HideRoom(ctx context.Context, req *chatv1.HideRoomRequest) (*chatv1.HideRoomResponse, error) {
	if err := h.chat.HideRoom(ctx, caller(ctx).UserID, req.GetRoomId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.HideRoomResponse{}, nil
}

// UpdateRoom renames a channel the caller owns or changes its topic.
func (h *RoomHandler) UpdateRoom(ctx context.Context, req *chatv1.UpdateRoomRequest) (*chatv1.UpdateRoomResponse, error) {
	room, err := h.chat.UpdateRoom(ctx, caller(ctx).UserID, req.GetRoomId(), chat.RoomEdit{Name: req.Name, Topic: req.Topic})
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.UpdateRoomResponse{Room: protoconv.Room(room)}, nil
}
