package chat

import "context"

// RoomEdit is what UpdateRoom changes: the fields set, nil ones kept.
type RoomEdit struct {
	Name, Topic *string
}

// UpdateRoom lets a channel's owner rename it and change its topic; the
// room's members hear RoomUpdated, everyone's directory RoomListed if it
// is public.
func (s *Service) UpdateRoom(ctx context.Context, callerID, roomID int64, edit RoomEdit) (Room, error) {
	room, role, err := s.visibleRoom(ctx, callerID, roomID)
	if err != nil {
		return Room{}, err
	}
	switch {
	case room.Kind != Channel:
		return Room{}, Errorf(ErrPrecondition, "a direct or group conversation has no name or topic to change")
	case role != Owner:
		return Room{}, Errorf(ErrForbidden, "only the owner of room %q can change its name and topic", room.Name)
	}
	if edit == (RoomEdit{}) {
		return room, nil // nothing to change, nothing to tell
	}
	if room, err = edit.apply(room); err != nil {
		return Room{}, err
	}
	if err := s.store.UpdateRoom(ctx, room); err != nil {
		return Room{}, err
	}
	if room, err = s.roomFor(ctx, callerID, roomID); err != nil {
		return Room{}, err
	}
	s.publish(ctx, Event{Kind: RoomUpdated, RoomID: roomID, Room: roomOnly(room)})
	s.tellDirectory(ctx, room)
	return room, nil
}

// apply checks the edit's fields as CreateRoom checks them and sets them.
func (e RoomEdit) apply(room Room) (Room, error) {
	var err error
	if e.Name != nil {
		if room.Name, err = cleanName(*e.Name); err != nil {
			return Room{}, err
		}
	}
	if e.Topic != nil {
		if room.Topic, err = cleanText("the topic", *e.Topic); err != nil {
			return Room{}, err
		}
	}
	return room, nil
}

// roomOnly is the room without the caller's own state, as every member
// may be told it.
func roomOnly(r Room) *Room {
	return &Room{
		ID: r.ID, Name: r.Name, Topic: r.Topic, Visibility: r.Visibility, MemberCount: r.MemberCount,
		LastSeq: r.LastSeq, CreatedAt: r.CreatedAt, Kind: r.Kind, Joined: true,
	}
}
