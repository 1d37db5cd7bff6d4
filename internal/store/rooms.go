package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

var _ chat.Store = (*Store)(nil)

// VisibleRooms lists public rooms and the user's private rooms, with the
// user's read state in those they are in.
func (s *Store) VisibleRooms(ctx context.Context, userID int64) ([]chat.Room, error) {
	rooms, _, err := s.roomsFor(ctx, userID)
	return rooms, err
}

// Room loads a room by id.
func (s *Store) Room(ctx context.Context, roomID int64) (chat.Room, error) {
	r, err := s.q.GetRoom(ctx, roomID)
	if err != nil {
		return chat.Room{}, notFound(err, "room %d not found", roomID)
	}
	return chat.Room{
		ID: r.ID, Name: r.Name, Topic: r.Topic, Visibility: chat.Visibility(r.Visibility),
		MemberCount: r.MemberCount, LastSeq: r.LastSeq, CreatedAt: r.CreatedAt, Kind: chat.RoomKind(r.Kind),
	}, nil
}

// CreateRoom stores a room and its owner's membership in one transaction.
func (s *Store) CreateRoom(ctx context.Context, nr chat.NewRoom) (chat.Room, chat.Membership, error) {
	now := time.Now().UTC()
	var publicName sql.NullString
	if nr.Visibility == chat.Public {
		publicName = sql.NullString{String: nr.Name, Valid: true}
	}
	var id int64
	insert := func(q *db.Queries) error {
		id = newRoomID()
		err := q.CreateRoom(ctx, db.CreateRoomParams{
			ID: id, Name: nr.Name, PublicName: publicName, Topic: nr.Topic, Visibility: int8(nr.Visibility),
			OwnerID: sql.NullInt64{Int64: nr.OwnerID, Valid: true}, CreatedAt: now,
		})
		if err != nil {
			return err
		}
		if _, err := q.AddMember(ctx, db.AddMemberParams{RoomID: id, UserID: nr.OwnerID, Role: int8(chat.Owner), JoinedAt: now}); err != nil {
			return err
		}
		return q.CountMembers(ctx, db.CountMembersParams{Delta: 1, ID: id})
	}
	err := s.withTx(ctx, insert)
	for try := 1; try < idTries && isDuplicateKey(err, "PRIMARY"); try++ {
		err = s.withTx(ctx, insert)
	}
	if isDuplicateKey(err, "rooms_public_name") {
		return chat.Room{}, chat.Membership{}, chat.Errorf(chat.ErrConflict, "a room with that name exists")
	}
	if err != nil {
		return chat.Room{}, chat.Membership{}, domainError(err)
	}
	owner, err := s.User(ctx, nr.OwnerID)
	if err != nil {
		return chat.Room{}, chat.Membership{}, err
	}
	room := chat.Room{ID: id, Name: nr.Name, Topic: nr.Topic, Visibility: nr.Visibility, MemberCount: 1, Joined: true, CreatedAt: now, Kind: chat.Channel}
	return room, chat.Membership{User: owner, Role: chat.Owner, JoinedAt: now}, nil
}

// idTries bounds CreateRoom's draws of a fresh id. Two draws of 63 random
// bits meeting is already unheard of; a third try covers a broken generator
// no better than the first.
const idTries = 3

// newRoomID draws a random positive 63-bit id, so that ids tell nothing:
// with sequential ones, a gap in the ids a user sees reveals that someone
// created a private room, and when.
func newRoomID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	if id := int64(binary.BigEndian.Uint64(b[:]) >> 1); id > 0 {
		return id
	}
	return newRoomID()
}

// Role returns the user's role in the room, chat.ErrNotFound for non-members.
func (s *Store) Role(ctx context.Context, roomID, userID int64) (chat.Role, error) {
	m, err := s.q.GetMembership(ctx, db.GetMembershipParams{RoomID: roomID, UserID: userID})
	if err != nil {
		return 0, domainError(err)
	}
	return chat.Role(m.Role), nil
}

// AddMember adds the user to the room unless already there, with the room
// row locked while the new member's counts are set (joinCounts) and a
// group's rules kept (membersChanged).
func (s *Store) AddMember(ctx context.Context, roomID, userID int64, role chat.Role) (chat.Membership, bool, error) {
	now := time.Now().UTC()
	var added bool
	err := s.withSQLTx(ctx, func(tx *sql.Tx, q *db.Queries) error {
		added = false
		log, err := q.LockRoomLog(ctx, roomID)
		if err != nil {
			return notFound(err, "room %d not found", roomID)
		}
		n, err := q.AddMember(ctx, db.AddMemberParams{RoomID: roomID, UserID: userID, Role: int8(role), JoinedAt: now})
		if err != nil || n == 0 {
			return domainError(err)
		}
		added = true
		if err := q.CountMembers(ctx, db.CountMembersParams{Delta: 1, ID: roomID}); err != nil {
			return domainError(err)
		}
		if err := membersChanged(ctx, q, roomID); err != nil {
			return err
		}
		return joinCounts(ctx, tx, roomID, userID, log.LastSeq)
	})
	if err != nil {
		return chat.Membership{}, false, err
	}
	user, err := s.User(ctx, userID)
	if err != nil {
		return chat.Membership{}, false, err
	}
	return chat.Membership{User: user, Role: role, JoinedAt: now}, added, nil
}

// RemoveMember deletes a membership, reporting whether there was one.
func (s *Store) RemoveMember(ctx context.Context, roomID, userID int64) (bool, error) {
	var removed bool
	err := s.withTx(ctx, func(q *db.Queries) error {
		n, err := q.RemoveMember(ctx, db.RemoveMemberParams{RoomID: roomID, UserID: userID})
		if removed = n > 0; err != nil || !removed {
			return err
		}
		if err := q.CountMembers(ctx, db.CountMembersParams{Delta: -1, ID: roomID}); err != nil {
			return err
		}
		return membersChanged(ctx, q, roomID)
	})
	return removed, domainError(err)
}

// Members lists a room's members in the order they joined.
func (s *Store) Members(ctx context.Context, roomID int64) ([]chat.Membership, error) {
	rows, err := s.q.ListMembers(ctx, roomID)
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.Membership, len(rows))
	for i, r := range rows {
		out[i] = chat.Membership{User: toUser(r.User), Role: chat.Role(r.Membership.Role), JoinedAt: r.Membership.JoinedAt}
	}
	return out, nil
}

// RoomIDsOf lists the rooms the user belongs to.
func (s *Store) RoomIDsOf(ctx context.Context, userID int64) ([]int64, error) {
	ids, err := s.q.ListUserRoomIDs(ctx, userID)
	return ids, domainError(err)
}

// LastSeqs returns the newest seq of each room.
func (s *Store) LastSeqs(ctx context.Context, roomIDs []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(roomIDs))
	if len(roomIDs) == 0 {
		return out, nil
	}
	rows, err := s.q.RoomLastSeqs(ctx, roomIDs)
	if err != nil {
		return nil, domainError(err)
	}
	for _, r := range rows {
		out[r.ID] = r.LastSeq
	}
	return out, nil
}
