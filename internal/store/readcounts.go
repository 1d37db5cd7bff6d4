package store

import (
	"sync"

	"github.com/parley-chat/parley/internal/chat"
)

// maxCountedRooms bounds the unread counts a process remembers: about
// 50 bytes each, so a few MB.
const maxCountedRooms = 1 << 16

// readCounts remembers the unread and mention counts of (user, room) pairs
// with the last_seq and read_seq they were counted at. Counting a room
// reads every own message, delete and mention it has (MySQL cannot bound a
// correlated subquery's index range by the outer row's watermark), while a
// user's room list is mostly rooms that did not change since the last look.
// The zero value is ready to use.
type readCounts struct {
	mu sync.Mutex
	m  map[countKey]counted
}

type countKey struct{ user, room int64 }

type counted struct{ lastSeq, readSeq, unread, mentions int64 }

// get fills in r's counts if they were counted at r's last and read seq.
func (c *readCounts) get(userID int64, r *chat.Room) bool {
	c.mu.Lock()
	v, ok := c.m[countKey{userID, r.ID}]
	c.mu.Unlock()
	if !ok || v.lastSeq != r.LastSeq || v.readSeq != r.ReadSeq {
		return false
	}
	r.UnreadCount, r.MentionCount = v.unread, v.mentions
	return true
}

// put remembers r's counts; past maxCountedRooms it forgets all of them
// first, which costs one full count per user at worst.
func (c *readCounts) put(userID int64, r chat.Room) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCountedRooms {
		c.m = make(map[countKey]counted)
	}
	c.m[countKey{userID, r.ID}] = counted{lastSeq: r.LastSeq, readSeq: r.ReadSeq, unread: r.UnreadCount, mentions: r.MentionCount}
}
