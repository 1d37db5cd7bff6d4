package chat

import (
	"context"
	"fmt"
	"time"
)

// DirectoryWindow bounds how often one room's listing goes to everyone: a
// busy public room's joins and leaves would otherwise send every live
// connection an event each. New rooms are bounded by the caller's calls
// (PARLEY_LIMIT_CALLS) only.
const DirectoryWindow = time.Second

// listed reports whether the room is in everyone's directory.
func listed(r Room) bool { return r.Visibility == Public && r.Kind == Channel }

// tellDirectory tells every user's directory the public room as it is
// now, or as it is when the room's window ends. room must be current
// (after the change) and is ignored unless listed.
func (s *Service) tellDirectory(ctx context.Context, room Room) {
	if !listed(room) {
		return
	}
	s.coalesce(ctx, fmt.Sprintf("directory:%d", room.ID), DirectoryWindow,
		func() { s.publishListed(ctx, room) },
		func(ctx context.Context) { s.directoryDue(ctx, room.ID) })
}

// directoryDue tells the room as it is at the end of its window.
func (s *Service) directoryDue(ctx context.Context, roomID int64) {
	room, err := s.store.Room(ctx, roomID)
	if err != nil {
		s.log.DebugContext(ctx, "read a room listing due", "room_id", roomID, "err", err)
		return
	}
	s.publishListed(ctx, room)
}

// publishListed sends the room without anyone's own state in it.
func (s *Service) publishListed(ctx context.Context, room Room) {
	r := roomOnly(room)
	r.Joined = false
	s.publish(ctx, Event{Kind: RoomListed, RoomID: room.ID, Room: r})
}

// tellDirectoryOf is tellDirectory for a room known only by id, such as
// after a leave.
func (s *Service) tellDirectoryOf(ctx context.Context, roomID int64) {
	room, err := s.store.Room(ctx, roomID)
	if err != nil {
		s.log.DebugContext(ctx, "read a room to list", "room_id", roomID, "err", err)
		return
	}
	s.tellDirectory(ctx, room)
}
