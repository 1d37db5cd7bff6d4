package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// renewBefore is how long before expiry a sender renews its access token,
// so no send goes out with a token about to lapse in flight.
const renewBefore = time.Minute

// keeper hands the senders their users' access tokens and renews each one
// shortly before it expires: the server's tokens last 15 minutes and a
// soak run lasts an hour. Users may be shared by senders (-users below
// -senders), hence a lock per user.
type keeper struct {
	users   []benchUser
	locks   []sync.Mutex
	expires []time.Time
	renewed atomic.Int64
}

func newKeeper(users []benchUser) *keeper {
	return &keeper{users: users, locks: make([]sync.Mutex, len(users)), expires: make([]time.Time, len(users))}
}

// access returns user i's access token, renewed through c first when it
// expires within renewBefore.
func (k *keeper) access(ctx context.Context, c *calls, i int) (string, error) {
	k.locks[i].Lock()
	defer k.locks[i].Unlock()
	u := &k.users[i]
	if k.expires[i].IsZero() {
		k.expires[i] = tokenExpiry(u.Access)
	}
	if time.Until(k.expires[i]) > renewBefore {
		return u.Access, nil
	}
	if err := c.authenticate(ctx, u, true, &setupStats{}); err != nil {
		return "", err
	}
	k.expires[i] = tokenExpiry(u.Access)
	k.renewed.Add(1)
	return u.Access, nil
}
