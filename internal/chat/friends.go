package chat

import (
	"context"
	"time"
)

// Friend is one of a user's friends.
type Friend struct {
	User   User
	Online bool
	Since  time.Time
}

// FriendRequest is a pending request; User is the other person (the
// sender of an incoming one, the addressee of an outgoing one).
type FriendRequest struct {
	User      User
	CreatedAt time.Time
}

// FriendList is a user's friends and pending requests, newest requests
// first.
type FriendList struct {
	Friends            []Friend
	Incoming, Outgoing []FriendRequest
}

// Asked is what AskFriend did.
type Asked int8

// The outcomes of a friend request.
const (
	// Requested: a new pending request.
	Requested Asked = iota + 1
	// AlreadyRequested: the same request was pending already.
	AlreadyRequested
	// Befriended: the other had asked already, and they are friends now.
	Befriended
	// AlreadyFriends: nothing to do.
	AlreadyFriends
)

// Ended is what a block ended between the two people.
type Ended struct {
	// Added is false when the block was there already.
	Added      bool
	Friendship bool
	// Request: a pending request, either way.
	Request bool
}

// FriendStore keeps friendships, friend requests and blocks. Every change
// between two people runs under a lock of both users' rows, so that a
// request, an answer and a block of the same pair never interleave.
type FriendStore interface {
	// AskFriend stores from's request to to, or makes them friends when to
	// had asked from, once check approved how from stands to to, read under
	// the pair's lock. ErrNotFound when to is no user.
	AskFriend(ctx context.Context, from, to int64, at time.Time, check func(Relation) error) (Asked, error)
	// EndRequest removes from's request to to, making them friends when
	// befriend; false when there was none.
	EndRequest(ctx context.Context, from, to int64, befriend bool, at time.Time) (bool, error)
	// Unfriend ends a friendship; false when there was none.
	Unfriend(ctx context.Context, a, b int64) (bool, error)
	// Block stores the block and ends the friendship and requests between
	// the two. ErrNotFound when blocked is no user.
	Block(ctx context.Context, blocker, blocked int64, at time.Time) (Ended, error)
	// Unblock lifts a block; false when there was none.
	Unblock(ctx context.Context, blocker, blocked int64) (bool, error)
	// Friends lists the user's friends by username and their requests.
	Friends(ctx context.Context, userID int64) (FriendList, error)
	// Blocked lists the users the user blocked, by username.
	Blocked(ctx context.Context, userID int64) ([]User, error)
}

// SendFriendRequest asks the user named username to be the caller's
// friend, and reports whether they are friends now: at once when that user
// had asked the caller. Repeating a request changes nothing. A block,
// either way, is refused as Relation.mayAsk words it.
func (s *Service) SendFriendRequest(ctx context.Context, from int64, username string) (bool, error) {
	to, err := s.store.UserByUsername(ctx, username)
	if err != nil {
		return false, err
	}
	if to.ID == from {
		return false, Errorf(ErrInvalid, "you cannot send a friend request to yourself")
	}
	at := s.stamp()
	asked, err := s.store.AskFriend(ctx, from, to.ID, at, Relation.mayAsk)
	if err != nil {
		return false, err
	}
	switch asked {
	case Requested:
		s.tellRequest(ctx, from, to, at)
	case Befriended:
		s.tellAnswer(ctx, from, to.ID, true)
	}
	return asked == Befriended || asked == AlreadyFriends, nil
}

// RespondFriendRequest accepts or declines the request otherID sent the
// caller. Accepting again once friends is fine; otherwise a request that
// is not there is ErrNotFound.
func (s *Service) RespondFriendRequest(ctx context.Context, userID, otherID int64, accept bool) error {
	ended, err := s.store.EndRequest(ctx, otherID, userID, accept, s.stamp())
	if err != nil {
		return err
	}
	if !ended {
		return s.noRequest(ctx, userID, otherID, accept)
	}
	s.tellAnswer(ctx, userID, otherID, accept)
	return nil
}

// noRequest answers a response to a request that is not pending: fine for
// a repeated accept, ErrNotFound otherwise.
func (s *Service) noRequest(ctx context.Context, userID, otherID int64, accept bool) error {
	if accept {
		r, err := s.store.Relation(ctx, userID, otherID)
		if err == nil && r.Friends {
			return nil
		}
	}
	return Errorf(ErrNotFound, "user %d has not asked to be your friend", otherID)
}

// CancelFriendRequest takes back the caller's request to otherID; taking
// back one that is not there changes nothing.
func (s *Service) CancelFriendRequest(ctx context.Context, userID, otherID int64) error {
	ended, err := s.store.EndRequest(ctx, userID, otherID, false, s.stamp())
	if err != nil || !ended {
		return err
	}
	s.tellAnswer(ctx, userID, otherID, false)
	return nil
}

// RemoveFriend ends the caller's friendship with otherID and tells both;
// removing one who is no friend changes nothing.
func (s *Service) RemoveFriend(ctx context.Context, userID, otherID int64) error {
	removed, err := s.store.Unfriend(ctx, userID, otherID)
	if err != nil || !removed {
		return err
	}
	s.tellRemoved(ctx, userID, otherID)
	return nil
}

// ListFriends returns the caller's friends, with whether each is online,
// and their pending requests.
func (s *Service) ListFriends(ctx context.Context, userID int64) (FriendList, error) {
	list, err := s.store.Friends(ctx, userID)
	if err != nil || len(list.Friends) == 0 {
		return list, err
	}
	ids := make([]int64, len(list.Friends))
	for i, f := range list.Friends {
		ids[i] = f.User.ID
	}
	online, err := s.presence.Online(ctx, ids)
	if err != nil {
		return FriendList{}, err
	}
	for i := range list.Friends {
		list.Friends[i].Online = online[list.Friends[i].User.ID]
	}
	return list, nil
}

// BlockUser blocks otherID for the caller, ending a friendship and any
// pending request between them; blocking again changes nothing. The
// blocked user hears of the end of the friendship or request as of a
// removal or a declined request, never of the block.
func (s *Service) BlockUser(ctx context.Context, userID, otherID int64) error {
	if userID == otherID {
		return Errorf(ErrInvalid, "you cannot block yourself")
	}
	ended, err := s.store.Block(ctx, userID, otherID, s.stamp())
	if err != nil || !ended.Added {
		return err
	}
	if ended.Friendship {
		s.tellRemoved(ctx, userID, otherID)
	}
	if ended.Request {
		s.tellAnswer(ctx, userID, otherID, false)
	}
	s.tellBlock(ctx, userID, otherID, true)
	return nil
}

// UnblockUser lifts the caller's block of otherID; lifting one that is not
// there changes nothing.
func (s *Service) UnblockUser(ctx context.Context, userID, otherID int64) error {
	lifted, err := s.store.Unblock(ctx, userID, otherID)
	if err != nil || !lifted {
		return err
	}
	s.tellBlock(ctx, userID, otherID, false)
	return nil
}

// ListBlocked returns the users the caller blocked.
func (s *Service) ListBlocked(ctx context.Context, userID int64) ([]User, error) {
	return s.store.Blocked(ctx, userID)
}

// The tell functions publish after the change is committed; like
// publish, they log what fails (loading a profile for the event) instead of
// failing a change that is stored.

// tellRequest tells the addressee of a new request, and the sender's own
// sessions, which list it as outgoing.
func (s *Service) tellRequest(ctx context.Context, from int64, to User, at time.Time) {
	sender, ok := s.userToTell(ctx, from)
	if !ok {
		return
	}
	s.publish(ctx, Event{Kind: FriendRequestReceived, To: to.ID, Request: &FriendRequest{User: sender, CreatedAt: at}})
	s.publish(ctx, Event{Kind: FriendRequestReceived, To: from, Outgoing: true, Request: &FriendRequest{User: to, CreatedAt: at}})
}

// tellAnswer tells both people that the request between them was accepted
// or not; each hears of the other.
func (s *Service) tellAnswer(ctx context.Context, a, b int64, accepted bool) {
	ua, okA := s.userToTell(ctx, a)
	ub, okB := s.userToTell(ctx, b)
	if !okA || !okB {
		return
	}
	s.publish(ctx, Event{Kind: FriendRequestAnswered, To: a, User: &ub, Accepted: accepted})
	s.publish(ctx, Event{Kind: FriendRequestAnswered, To: b, User: &ua, Accepted: accepted})
}

// tellBlock tells the blocker's sessions; the blocked user is not told.
func (s *Service) tellBlock(ctx context.Context, blocker, blocked int64, on bool) {
	if u, ok := s.userToTell(ctx, blocked); ok {
		s.publish(ctx, Event{Kind: BlockChanged, To: blocker, User: &u, Blocked: on})
	}
}

func (s *Service) tellRemoved(ctx context.Context, a, b int64) {
	s.publish(ctx, Event{Kind: FriendRemoved, To: a, UserID: b})
	s.publish(ctx, Event{Kind: FriendRemoved, To: b, UserID: a})
}

// userToTell loads the user an event names, logging a failure.
func (s *Service) userToTell(ctx context.Context, id int64) (User, bool) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		s.log.WarnContext(ctx, "load user for an event", "user_id", id, "err", err)
	}
	return u, err == nil
}

// stamp is now as MySQL keeps it, to the microsecond.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
