package ratelimit

import (
	"context"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

var _ auth.Guard = (*Passwords)(nil)

// PasswordLimits are the rates of wrong passwords chatd accepts.
type PasswordLimits struct {
	// LoginPerAccount counts failed logins per account and source address,
	// so a guesser elsewhere cannot lock the owner out.
	LoginPerAccount Rate
	// LoginPerAddress counts failed logins per source address, whatever
	// the account.
	LoginPerAddress Rate
	// ChangePerUser counts wrong current passwords given to ChangePassword,
	// per user from any address.
	ChangePerUser Rate
}

// Passwords is auth's Guard in Redis: it keeps the counts of failed logins
// and password changes for every process.
type Passwords struct {
	l      *Limiter
	limits PasswordLimits
}

// NewPasswords counts attempts with l at the given rates.
func NewPasswords(l *Limiter, limits PasswordLimits) *Passwords {
	return &Passwords{l: l, limits: limits}
}

// counters are the limits an attempt counts against; the account's first.
// A login's two share the address as their hash tag, which is first in the
// key (an account name may hold braces; an address does not).
func (p *Passwords) counters(a auth.Attempt) []Limit {
	if a.Kind == auth.PasswordChangeAttempt {
		return []Limit{{"password:" + a.Account, p.limits.ChangePerUser}}
	}
	addr := "login:{ip:" + a.Addr + "}:"
	return []Limit{
		{addr + "acct:" + a.Account, p.limits.LoginPerAccount},
		{addr + "ip", p.limits.LoginPerAddress},
	}
}

// Reserve takes one attempt from every counter of a, or none.
func (p *Passwords) Reserve(ctx context.Context, a auth.Attempt) (time.Duration, error) {
	wait, err := p.l.TakeAll(ctx, p.counters(a)...)
	return wait, unavailable(err)
}

// Succeeded clears the account's count and refunds the address's.
func (p *Passwords) Succeeded(ctx context.Context, a auth.Attempt) error {
	c := p.counters(a)
	if err := p.l.Reset(ctx, c[0].Key); err != nil {
		return unavailable(err)
	}
	return unavailable(p.l.Refund(ctx, c[1:]...))
}

// Release refunds every counter of a.
func (p *Passwords) Release(ctx context.Context, a auth.Attempt) error {
	return unavailable(p.l.Refund(ctx, p.counters(a)...))
}

// unavailable marks a Redis failure: a password is not checked while the
// counts cannot be kept, and the caller answers "unavailable" (a login could
// not start its session in Redis anyway).
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	return chat.Errorf(chat.ErrUnavailable, "Redis: %v", err)
}
