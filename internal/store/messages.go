package store

import (
	"context"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// MessagesAfter returns up to limit messages with seq above afterSeq, ascending.
func (s *Store) MessagesAfter(ctx context.Context, roomID, afterSeq int64, limit int) ([]chat.Message, error) {
	rows, err := s.q.ListMessagesAfter(ctx, db.ListMessagesAfterParams{RoomID: roomID, Seq: afterSeq, Limit: int32(limit)})
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.Message, len(rows))
	for i, r := range rows {
		out[i] = toMessage(r.Message, r.User)
	}
	return out, nil
}

// MessagesBefore returns the newest limit messages with seq below beforeSeq,
// ascending.
func (s *Store) MessagesBefore(ctx context.Context, roomID, beforeSeq int64, limit int) ([]chat.Message, error) {
	rows, err := s.q.ListMessagesBefore(ctx, db.ListMessagesBeforeParams{RoomID: roomID, Seq: beforeSeq, Limit: int32(limit)})
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.Message, len(rows))
	for i, r := range rows {
		out[len(rows)-1-i] = toMessage(r.Message, r.User)
	}
	return out, nil
}

func toMessage(m db.Message, u db.User) chat.Message {
	return chat.Message{
		ID: m.ID, RoomID: m.RoomID, Seq: m.Seq, Sender: toUser(u), Body: m.Body,
		ClientMsgID: m.ClientMsgID, CreatedAt: m.CreatedAt,
	}
}
