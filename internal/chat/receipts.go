package chat

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// ReceiptWindow bounds how often one member's receipt goes to a room: a
// member who marks read on every message of a busy room, or flips between
// read and unread, would otherwise send every member an event each time.
// A move within the window is told when it ends, so the last one is never
// lost.
const ReceiptWindow = time.Second

// receiptGate remembers the members whose receipt waits for its window to
// end on this process.
type receiptGate struct {
	mu      sync.Mutex
	pending map[[2]int64]bool
}

// tellReceipt tells the room the member's watermark now, or when the
// member's window ends.
func (s *Service) tellReceipt(ctx context.Context, roomID, userID, readSeq int64) {
	ok, err := s.throttle.Once(ctx, fmt.Sprintf("receipt:%d:%d", roomID, userID), ReceiptWindow)
	if ok || err != nil { // without Redis, a receipt too many beats one missing
		s.publish(ctx, Event{Kind: ReadReceipt, RoomID: roomID, UserID: userID, ReadSeq: readSeq})
		return
	}
	k := [2]int64{roomID, userID}
	s.receipts.mu.Lock()
	defer s.receipts.mu.Unlock()
	if s.receipts.pending[k] {
		return
	}
	if s.receipts.pending == nil {
		s.receipts.pending = map[[2]int64]bool{}
	}
	s.receipts.pending[k] = true
	time.AfterFunc(ReceiptWindow, func() { s.receiptDue(roomID, userID) })
}

// receiptDue tells the room the watermark as it is at the end of the
// window, if the member still shares receipts.
func (s *Service) receiptDue(roomID, userID int64) {
	s.receipts.mu.Lock()
	delete(s.receipts.pending, [2]int64{roomID, userID})
	s.receipts.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), ReceiptWindow)
	defer cancel()
	mv, err := s.store.ReadState(ctx, roomID, userID)
	if err != nil {
		s.log.DebugContext(ctx, "read a receipt due", "room_id", roomID, "user_id", userID, "err", err)
		return
	}
	if mv.ShareReceipts {
		s.publish(ctx, Event{Kind: ReadReceipt, RoomID: roomID, UserID: userID, ReadSeq: mv.ReadSeq})
	}
}
