package chat

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// RoomKind says what sort of conversation a room is.
type RoomKind int8

// Room kinds; the values are stored in MySQL.
const (
	// Channel is a named room, public or private, joined or added to.
	Channel RoomKind = 1
	// Direct is two people's room: opened, never left, only hidden.
	Direct RoomKind = 2
	// Group is a private conversation of 3 to MaxGroupMembers people,
	// named by its members; any member may add others.
	Group RoomKind = 3
)

// MaxGroupMembers bounds a group conversation, its opener included.
const MaxGroupMembers = 10

// NewConversation is what OpenConversation needs: a direct or group room
// of exactly these members, found again by Set.
type NewConversation struct {
	Kind      RoomKind
	MemberIDs []int64
	Set       []byte
}

// MemberSet is the key of a direct or group room's members, the SHA-256 of
// their sorted ids, so that the same set of people always finds the same
// room, whoever opens it and in whatever order the names come.
func MemberSet(ids []int64) []byte {
	sorted := slices.Sorted(slices.Values(ids))
	b := make([]byte, 0, 8*len(sorted))
	for _, id := range sorted {
		b = binary.BigEndian.AppendUint64(b, uint64(id))
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// OpenDirect returns the caller's conversation with the users named: with
// one other their direct room, with more the group of exactly that set,
// created on first use, when every member hears RoomAdded.
func (s *Service) OpenDirect(ctx context.Context, callerID int64, usernames []string) (Room, error) {
	ids, err := s.contactable(ctx, callerID, usernames)
	if err != nil {
		return Room{}, err
	}
	c := NewConversation{Kind: Direct, MemberIDs: append(ids, callerID)}
	if len(ids) > 1 {
		c.Kind = Group
	}
	c.Set = MemberSet(c.MemberIDs)
	roomID, created, err := s.store.OpenConversation(ctx, c)
	if err != nil {
		return Room{}, err
	}
	room, err := s.roomFor(ctx, callerID, roomID)
	if err != nil {
		return Room{}, err
	}
	if created {
		// A new room has no read state yet: it is the same for everyone.
		for _, id := range c.MemberIDs {
			s.publish(ctx, Event{Kind: RoomAdded, RoomID: roomID, To: id, Room: &room})
		}
		return room, nil
	}
	// Opening a conversation one hid shows it again.
	return room, s.show(ctx, room, callerID)
}

// contactable resolves the usernames to the ids of other users, each of
// whom accepts conversations with the caller.
func (s *Service) contactable(ctx context.Context, callerID int64, usernames []string) ([]int64, error) {
	var ids []int64
	for _, name := range usernames {
		u, err := s.store.UserByUsername(ctx, name)
		if err != nil {
			return nil, err
		}
		if u.ID == callerID {
			return nil, Errorf(ErrInvalid, "you cannot open a conversation with yourself: name the other people")
		}
		if slices.Contains(ids, u.ID) {
			continue // the same user named in two spellings
		}
		if err := s.MayContact(ctx, callerID, u.ID); err != nil {
			return nil, err
		}
		ids = append(ids, u.ID)
	}
	return ids, nil
}

// HideRoom takes a direct or group room off the caller's list until its
// next message. The room's events still reach the caller's connections,
// which leave it out while it is hidden.
func (s *Service) HideRoom(ctx context.Context, userID, roomID int64) error {
	// A conversation is private: to anyone but its members it is missing.
	room, _, err := s.visibleRoom(ctx, userID, roomID)
	if err != nil {
		return err
	}
	if room.Kind == Channel {
		return Errorf(ErrPrecondition, "only direct and group conversations can be hidden; leave the room instead")
	}
	_, err = s.store.SetHidden(ctx, roomID, userID, true)
	return err
}

// unhideConversation is unhide for a direct or group room, nothing for a
// channel, which no one hides.
func (s *Service) unhideConversation(ctx context.Context, roomID int64) {
	kind, err := s.store.RoomKind(ctx, roomID)
	if err != nil {
		s.log.WarnContext(ctx, "unhide room", "room_id", roomID, "err", err)
		return
	}
	if kind != Channel {
		s.unhide(ctx, roomID)
	}
}

// unhide shows a conversation again to every member who hid it, after a
// message in it: each of their sessions gets the room back as RoomAdded.
func (s *Service) unhide(ctx context.Context, roomID int64) {
	ids, err := s.store.Unhide(ctx, roomID)
	if err != nil {
		s.log.WarnContext(ctx, "unhide room", "room_id", roomID, "err", err)
		return
	}
	for _, id := range ids {
		s.tellRoomAdded(ctx, id, roomID)
	}
}

// show unhides a conversation for one member, telling their sessions if it
// was hidden.
func (s *Service) show(ctx context.Context, room Room, userID int64) error {
	changed, err := s.store.SetHidden(ctx, room.ID, userID, false)
	if err != nil || !changed {
		return err
	}
	s.publish(ctx, Event{Kind: RoomAdded, RoomID: room.ID, To: userID, Room: &room})
	return nil
}

// tellRoomAdded tells a member's sessions the room as they see it.
func (s *Service) tellRoomAdded(ctx context.Context, userID, roomID int64) {
	room, err := s.roomFor(ctx, userID, roomID)
	if err != nil {
		s.log.WarnContext(ctx, "room for member", "room_id", roomID, "user_id", userID, "err", err)
		return
	}
	s.publish(ctx, Event{Kind: RoomAdded, RoomID: roomID, To: userID, Room: &room})
}

// mayAddTo checks an addition to a room by its kind: a channel's owner
// adds, any member of a group adds people who accept the adder, nobody
// adds to a direct room. Conversations are private, so a non-member
// already got not found.
func (s *Service) mayAddTo(ctx context.Context, callerID, roomID, userID int64) error {
	room, role, err := s.visibleRoom(ctx, callerID, roomID)
	switch {
	case err != nil:
		return err
	case room.Kind == Direct:
		return Errorf(ErrPrecondition, "a direct conversation has two people; open a group with everyone instead")
	case room.Kind == Group:
		return s.MayContact(ctx, callerID, userID)
	case role != Owner:
		return Errorf(ErrForbidden, "only the owner of room %q can change its members", room.Name)
	}
	return nil
}

// mayLeave refuses to let a member leave a direct room, which stays the
// pair's one room: hiding it is the way to put it away.
func mayLeave(room Room) error {
	if room.Kind == Direct {
		return Errorf(ErrPrecondition, "a direct conversation cannot be left; hide it instead")
	}
	return nil
}
