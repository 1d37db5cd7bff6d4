package chat

import (
	"context"
	"fmt"
	"time"
)

// ReceiptWindow bounds how often one member's receipt goes to a room: a
// member who marks read on every message of a busy room, or flips between
// read and unread, would otherwise send every member an event each time.
// A move within the window is told when it ends, so the last one is never
// lost.
const ReceiptWindow = time.Second

// tellReceipt tells the room the member's watermark now, or when the
// member's window ends.
func (s *Service) tellReceipt(ctx context.Context, roomID, userID, readSeq int64) {
	s.coalesce(ctx, fmt.Sprintf("receipt:%d:%d", roomID, userID), ReceiptWindow,
		func() {
			s.publish(ctx, Event{Kind: ReadReceipt, RoomID: roomID, UserID: userID, ReadSeq: readSeq})
		},
		func(ctx context.Context) { s.receiptDue(ctx, roomID, userID) })
}

// receiptDue tells the room the watermark as it is at the end of the
// window, if the member still shares receipts.
func (s *Service) receiptDue(ctx context.Context, roomID, userID int64) {
	mv, err := s.store.ReadState(ctx, roomID, userID)
	if err != nil {
		s.log.DebugContext(ctx, "read a receipt due", "room_id", roomID, "user_id", userID, "err", err)
		return
	}
	if mv.ShareReceipts {
		s.publish(ctx, Event{Kind: ReadReceipt, RoomID: roomID, UserID: userID, ReadSeq: mv.ReadSeq})
	}
}
