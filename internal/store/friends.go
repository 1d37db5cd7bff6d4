package store

import (
	"context"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// lockPair locks both users' rows, ErrNotFound when other is no user.
func lockPair(ctx context.Context, q *db.Queries, self, other int64) error {
	ids, err := q.LockPair(ctx, db.LockPairParams{A: self, B: other})
	if err != nil {
		return domainError(err)
	}
	if len(ids) < 2 {
		return chat.Errorf(chat.ErrNotFound, "user %d not found", other)
	}
	return nil
}

// AskFriend stores from's request to to, or makes them friends when to
// had asked from.
func (s *Store) AskFriend(ctx context.Context, from, to int64, at time.Time, check func(chat.Relation) error) (chat.Asked, error) {
	var asked chat.Asked
	err := s.withTx(ctx, func(q *db.Queries) error {
		if err := lockPair(ctx, q, from, to); err != nil {
			return err
		}
		r, err := relation(ctx, q, from, to)
		if err != nil {
			return err
		}
		if err := check(r); err != nil {
			return err
		}
		asked, err = ask(ctx, q, from, to, r.Friends, at)
		return err
	})
	return asked, err
}

// ask is AskFriend's writes, under the pair's lock.
func ask(ctx context.Context, q *db.Queries, from, to int64, friends bool, at time.Time) (chat.Asked, error) {
	if friends {
		return chat.AlreadyFriends, nil
	}
	back, err := q.DeleteFriendRequest(ctx, db.DeleteFriendRequestParams{FromID: to, ToID: from})
	if err != nil {
		return 0, domainError(err)
	}
	if back > 0 {
		return chat.Befriended, domainError(q.InsertFriendship(ctx, db.InsertFriendshipParams{A: from, B: to, CreatedAt: at}))
	}
	n, err := q.InsertFriendRequest(ctx, db.InsertFriendRequestParams{FromID: from, ToID: to, CreatedAt: at})
	if n == 0 {
		return chat.AlreadyRequested, domainError(err)
	}
	return chat.Requested, domainError(err)
}

// EndRequest removes from's request to to, making them friends when
// befriend.
func (s *Store) EndRequest(ctx context.Context, from, to int64, befriend bool, at time.Time) (bool, error) {
	var ended bool
	err := s.withTx(ctx, func(q *db.Queries) error {
		if err := lockPair(ctx, q, from, to); err != nil {
			return err
		}
		n, err := q.DeleteFriendRequest(ctx, db.DeleteFriendRequestParams{FromID: from, ToID: to})
		if err != nil {
			return domainError(err)
		}
		if ended = n > 0; ended && befriend {
			return domainError(q.InsertFriendship(ctx, db.InsertFriendshipParams{A: from, B: to, CreatedAt: at}))
		}
		return nil
	})
	return ended, err
}

// Unfriend ends a friendship, both its rows.
func (s *Store) Unfriend(ctx context.Context, a, b int64) (bool, error) {
	n, err := s.q.DeleteFriendship(ctx, db.DeleteFriendshipParams{A: a, B: b})
	return n > 0, domainError(err)
}

// Block stores the block and ends the friendship and requests between the
// two, in one transaction under the pair's lock.
func (s *Store) Block(ctx context.Context, blocker, blocked int64, at time.Time) (chat.Ended, error) {
	var ended chat.Ended
	err := s.withTx(ctx, func(q *db.Queries) error {
		if err := lockPair(ctx, q, blocker, blocked); err != nil {
			return err
		}
		added, err := q.InsertBlock(ctx, db.InsertBlockParams{BlockerID: blocker, BlockedID: blocked, CreatedAt: at})
		if err != nil {
			return domainError(err)
		}
		friends, err := q.DeleteFriendship(ctx, db.DeleteFriendshipParams{A: blocker, B: blocked})
		if err != nil {
			return domainError(err)
		}
		requests, err := q.DeleteFriendRequests(ctx, db.DeleteFriendRequestsParams{A: blocker, B: blocked})
		ended = chat.Ended{Added: added > 0, Friendship: friends > 0, Request: requests > 0}
		return domainError(err)
	})
	return ended, err
}

// Unblock lifts a block.
func (s *Store) Unblock(ctx context.Context, blocker, blocked int64) (bool, error) {
	n, err := s.q.DeleteBlock(ctx, db.DeleteBlockParams{BlockerID: blocker, BlockedID: blocked})
	return n > 0, domainError(err)
}

// Friends lists the user's friends by username and their requests, newest
// first.
func (s *Store) Friends(ctx context.Context, userID int64) (chat.FriendList, error) {
	var list chat.FriendList
	friends, err := s.q.ListFriends(ctx, userID)
	if err != nil {
		return list, domainError(err)
	}
	for _, f := range friends {
		list.Friends = append(list.Friends, chat.Friend{User: toUser(f.User), Since: f.Since})
	}
	incoming, err := s.q.ListIncomingRequests(ctx, userID)
	if err != nil {
		return list, domainError(err)
	}
	for _, r := range incoming {
		list.Incoming = append(list.Incoming, chat.FriendRequest{User: toUser(r.User), CreatedAt: r.AskedAt})
	}
	outgoing, err := s.q.ListOutgoingRequests(ctx, userID)
	if err != nil {
		return list, domainError(err)
	}
	for _, r := range outgoing {
		list.Outgoing = append(list.Outgoing, chat.FriendRequest{User: toUser(r.User), CreatedAt: r.AskedAt})
	}
	return list, nil
}

// Blocked lists the users the user blocked, by username.
func (s *Store) Blocked(ctx context.Context, userID int64) ([]chat.User, error) {
	rows, err := s.q.ListBlocked(ctx, userID)
	if err != nil {
		return nil, domainError(err)
	}
	out := make([]chat.User, len(rows))
	for i, r := range rows {
		out[i] = toUser(r.User)
	}
	return out, nil
}

// FriendIDs lists the user's friends.
func (s *Store) FriendIDs(ctx context.Context, userID int64) ([]int64, error) {
	ids, err := s.q.ListFriendIDs(ctx, userID)
	return ids, domainError(err)
}
