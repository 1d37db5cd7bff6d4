package store

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// AppendMessage stores a message under the room's next seq. The room row's
// lock serialises senders to one room, so seqs are gapless and commit in
// order; a message already stored under the same sender, room and client id
// is returned instead, with created false.
func (s *Store) AppendMessage(ctx context.Context, m chat.NewMessage) (chat.Message, bool, error) {
	// A retry of a stored message answers without taking the room's lock.
	if msg, err := s.messageByClientID(ctx, s.q, m); !errors.Is(err, chat.ErrNotFound) {
		return msg, false, err
	}
	var (
		msg     chat.Message
		created bool
	)
	err := s.withTx(ctx, func(q *db.Queries) error {
		last, err := q.LockRoomSeq(ctx, m.RoomID)
		if err != nil {
			return domainError(err)
		}
		// Checked again under the lock: a concurrent retry may have won.
		msg, err = s.messageByClientID(ctx, q, m)
		if !errors.Is(err, chat.ErrNotFound) {
			return err
		}
		msg, err = insertMessage(ctx, q, m, last+1)
		created = err == nil
		return err
	})
	return msg, created, err
}

func insertMessage(ctx context.Context, q *db.Queries, m chat.NewMessage, seq int64) (chat.Message, error) {
	id, err := q.InsertMessage(ctx, db.InsertMessageParams{
		RoomID: m.RoomID, Seq: seq, SenderID: m.SenderID, Body: m.Body,
		ClientMsgID: m.ClientMsgID, CreatedAt: m.CreatedAt,
	})
	if err != nil {
		return chat.Message{}, domainError(err)
	}
	if err := q.SetRoomSeq(ctx, db.SetRoomSeqParams{LastSeq: seq, ID: m.RoomID}); err != nil {
		return chat.Message{}, domainError(err)
	}
	sender, err := q.GetUser(ctx, m.SenderID)
	if err != nil {
		return chat.Message{}, domainError(err)
	}
	return chat.Message{
		ID: id, RoomID: m.RoomID, Seq: seq, Sender: toUser(sender), Body: m.Body,
		ClientMsgID: m.ClientMsgID, CreatedAt: m.CreatedAt,
	}, nil
}

func (s *Store) messageByClientID(ctx context.Context, q *db.Queries, m chat.NewMessage) (chat.Message, error) {
	row, err := q.GetMessageByClientID(ctx, db.GetMessageByClientIDParams{SenderID: m.SenderID, RoomID: m.RoomID, ClientMsgID: m.ClientMsgID})
	if err != nil {
		return chat.Message{}, domainError(err)
	}
	return toMessage(row.Message, row.User), nil
}

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
