package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// OpenConversation finds or creates the room of exactly c's members. It
// inserts first and reads on a duplicate member set, so two callers
// opening the same set at once meet at one row: MySQL's unique key on
// rooms.member_set refuses the second, never a check before the insert.
func (s *Store) OpenConversation(ctx context.Context, c chat.NewConversation) (int64, bool, error) {
	set := sql.NullString{String: string(c.Set), Valid: true}
	var err error
	for try := 0; try < idTries; try++ {
		var id int64
		id, err = s.createConversation(ctx, c, set)
		switch {
		case err == nil:
			return id, true, nil
		case isDuplicateKey(err, "PRIMARY"):
			continue // a drawn id taken: draw again
		case !isDuplicateKey(err, "rooms_member_set"):
			return 0, false, domainError(err)
		}
		id, err = s.q.RoomBySet(ctx, set)
		if !errors.Is(err, sql.ErrNoRows) {
			return id, false, domainError(err)
		}
		// The set's room changed members in between: make the set one.
	}
	return 0, false, domainError(err)
}

func (s *Store) createConversation(ctx context.Context, c chat.NewConversation, set sql.NullString) (int64, error) {
	id, now := newRoomID(), time.Now().UTC()
	err := s.withTx(ctx, func(q *db.Queries) error {
		err := q.CreateConversation(ctx, db.CreateConversationParams{
			ID: id, Kind: int8(c.Kind), MemberSet: set, MemberCount: int64(len(c.MemberIDs)), CreatedAt: now,
		})
		if err != nil {
			return err
		}
		for _, uid := range c.MemberIDs {
			if _, err := q.AddMember(ctx, db.AddMemberParams{RoomID: id, UserID: uid, Role: int8(chat.Member), JoinedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	return id, err
}

// membersChanged keeps a group's rules after a join or a leave, under the
// room row's lock: at most chat.MaxGroupMembers, and member_set naming the
// new set, or NULL when another room (the pair's direct room, another
// group) already has it, so that opening the current set finds one room.
func membersChanged(ctx context.Context, q *db.Queries, roomID int64) error {
	r, err := q.GetRoomKind(ctx, roomID)
	if err != nil || chat.RoomKind(r.Kind) != chat.Group {
		return domainError(err)
	}
	if r.MemberCount > chat.MaxGroupMembers {
		return chat.Errorf(chat.ErrPrecondition, "a group conversation has at most %d members", chat.MaxGroupMembers)
	}
	ids, err := q.RoomMemberIDs(ctx, roomID)
	if err != nil {
		return domainError(err)
	}
	var set sql.NullString
	if len(ids) > 0 {
		set = sql.NullString{String: string(chat.MemberSet(ids)), Valid: true}
	}
	// A duplicate key undoes only its statement; the transaction goes on.
	err = q.SetMemberSet(ctx, db.SetMemberSetParams{MemberSet: set, ID: roomID})
	if isDuplicateKey(err, "rooms_member_set") {
		err = q.SetMemberSet(ctx, db.SetMemberSetParams{ID: roomID})
	}
	return domainError(err)
}

// CheckMember is chat.ErrNotFound for anyone not a member of the room.
func (s *Store) CheckMember(ctx context.Context, roomID, userID int64) error {
	member, err := s.q.IsMember(ctx, db.IsMemberParams{RoomID: roomID, UserID: userID})
	switch {
	case err != nil:
		return domainError(err)
	case !member:
		return notMember(roomID)
	}
	return nil
}

// notMember is the answer to a non-member's call that needs a member.
func notMember(roomID int64) error {
	return chat.Errorf(chat.ErrNotFound, "you are not a member of room %d", roomID)
}

// SetHidden reports whether the member's hidden flag changed.
func (s *Store) SetHidden(ctx context.Context, roomID, userID int64, hidden bool) (bool, error) {
	n, err := s.q.SetHidden(ctx, db.SetHiddenParams{Hidden: hidden, RoomID: roomID, UserID: userID})
	return n > 0, domainError(err)
}

// Unhide shows the room again to those who hid it. Each is unhidden by a
// statement of its own that reports the change, so that of concurrent
// messages only one tells a member their room is back.
func (s *Store) Unhide(ctx context.Context, roomID int64) ([]int64, error) {
	hid, err := s.q.HiddenMembers(ctx, roomID)
	if err != nil {
		return nil, domainError(err)
	}
	var shown []int64
	for _, uid := range hid {
		changed, err := s.SetHidden(ctx, roomID, uid, false)
		if err != nil {
			return shown, err
		}
		if changed {
			shown = append(shown, uid)
		}
	}
	return shown, nil
}

// UpdateRoom stores a room's name and topic; a public name another room has
// is chat.ErrConflict.
func (s *Store) UpdateRoom(ctx context.Context, r chat.Room) error {
	var publicName sql.NullString
	if r.Visibility == chat.Public {
		publicName = sql.NullString{String: r.Name, Valid: true}
	}
	err := s.q.UpdateRoom(ctx, db.UpdateRoomParams{Name: r.Name, PublicName: publicName, Topic: r.Topic, ID: r.ID})
	if isDuplicateKey(err, "rooms_public_name") {
		return chat.Errorf(chat.ErrConflict, "a room with that name exists")
	}
	return domainError(err)
}

// conversationMembers fills in the members of the direct and group rooms
// among rooms (see addMembers), the others in one statement however many
// rooms there are.
func (s *Store) conversationMembers(ctx context.Context, userID int64, rooms []chat.Room, joined []sql.NullTime) error {
	var ids []int64
	mine := false
	for i, r := range rooms {
		if r.Kind != chat.Channel {
			ids = append(ids, r.ID)
			mine = mine || joined[i].Valid
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.q.ListConversationMembers(ctx, db.ListConversationMembersParams{RoomIds: ids, UserID: userID})
	if err != nil {
		return domainError(err)
	}
	var me chat.User
	if mine {
		if me, err = s.User(ctx, userID); err != nil {
			return err
		}
	}
	addMembers(rooms, joined, rows, me)
	return nil
}

// addMembers gives each direct and group room its members in the order
// they joined: others, the rows of the user's fellow members, and the user
// me, who joined each of these rooms at joined (invalid where not). The
// members are counted first and placed in one array, room by room, and
// only each room's few are sorted: sorting a long list's thousand rows
// as one, and growing every room's slice, was a ninth of its time.
func addMembers(rooms []chat.Room, joined []sql.NullTime, others []db.ListConversationMembersRow, me chat.User) {
	type member struct {
		joined time.Time
		user   chat.User
	}
	if len(rooms) == 0 {
		return
	}
	// Only what a member is shown by, as ListConversationMembers reads it.
	me = chat.User{ID: me.ID, Username: me.Username, DisplayName: me.DisplayName, StatusText: me.StatusText, Avatar: me.Avatar, CreatedAt: me.CreatedAt}
	at := make(map[int64]int, len(rooms))
	end := make([]int, len(rooms)) // counts, then each room's end in all
	for i, r := range rooms {
		at[r.ID] = i
		if r.Kind != chat.Channel && joined[i].Valid {
			end[i]++
		}
	}
	for _, o := range others {
		if i, ok := at[o.RoomID]; ok {
			end[i]++
		}
	}
	start := make([]int, len(rooms))
	for i := range end {
		if i > 0 {
			start[i] = end[i-1]
		}
		end[i] += start[i]
	}
	all := make([]member, end[len(end)-1])
	next := slices.Clone(start)
	put := func(i int, m member) {
		all[next[i]] = m
		next[i]++
	}
	for i, r := range rooms {
		if r.Kind != chat.Channel && joined[i].Valid {
			put(i, member{joined[i].Time, me})
		}
	}
	for _, o := range others {
		if i, ok := at[o.RoomID]; ok {
			put(i, member{o.JoinedAt, chat.User{ID: o.ID, Username: o.Username, DisplayName: o.DisplayName,
				StatusText: o.StatusText, Avatar: o.Avatar, CreatedAt: o.CreatedAt}})
		}
	}
	users := make([]chat.User, len(all))
	for i := range rooms {
		ms := all[start[i]:end[i]]
		if len(ms) == 0 {
			continue
		}
		slices.SortFunc(ms, func(a, b member) int {
			return cmp.Or(a.joined.Compare(b.joined), cmp.Compare(a.user.ID, b.user.ID))
		})
		for k, m := range ms {
			users[start[i]+k] = m.user
		}
		rooms[i].Members = users[start[i]:end[i]:end[i]]
	}
}
