package chat

import "context"

// DmPolicy says who may start a conversation with a user.
type DmPolicy int8

const (
	DmEveryone DmPolicy = 1
	DmFriends  DmPolicy = 2
)

// Relation is how one user stands to another, as the store reads it in
// one statement: the checks below decide from it, so that every path
// (direct rooms, groups, friend requests) answers a block the same way.
type Relation struct {
	// Blocks: the first user blocked the second. BlockedBy: the second
	// blocked the first.
	Blocks, BlockedBy bool
	Friends           bool
	// The second user's policy.
	Policy DmPolicy
}

// errNotAccepted is what a blocked user, or one the policy keeps out,
// hears: the same sentence, so a block is never revealed as such.
func errNotAccepted() error {
	return Errorf(ErrForbidden, "this user does not accept messages from you")
}

// mayStart says whether the first user may open a conversation with the
// second or add them to a group.
func (r Relation) mayStart() error {
	switch {
	case r.Blocks:
		return Errorf(ErrForbidden, "you blocked this user: unblock them first")
	case r.BlockedBy, r.Policy == DmFriends && !r.Friends:
		return errNotAccepted()
	}
	return nil
}

// mayAsk says whether the first user may send the second a friend request:
// a policy of friends only does not keep requests out, a block does.
func (r Relation) mayAsk() error {
	switch {
	case r.Blocks:
		return Errorf(ErrForbidden, "you blocked this user: unblock them first")
	case r.BlockedBy:
		return errNotAccepted()
	}
	return nil
}

// MayContact says whether from may open a direct room with to or add them
// to a group: permission_denied "this user does not accept messages from
// you" when to blocked from or accepts friends only.
func (s *Service) MayContact(ctx context.Context, from, to int64) error {
	r, err := s.store.Relation(ctx, from, to)
	if err != nil {
		return err
	}
	return r.mayStart()
}
