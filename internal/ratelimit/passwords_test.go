package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestPasswordsCountAccountAndAddress: failed logins count per account and
// address and per address in one step, so a spent account limit takes
// nothing from the address, and a success clears the account's count.
func TestPasswordsCountAccountAndAddress(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		p := ratelimit.NewPasswords(ratelimit.New(rdb, prefix), ratelimit.PasswordLimits{
			LoginPerAccount: ratelimit.Rate{Burst: 2, Every: time.Hour},
			LoginPerAddress: ratelimit.Rate{Burst: 4, Every: time.Hour},
			ChangePerUser:   ratelimit.Rate{Burst: 1, Every: time.Hour},
		})
		ctx := context.Background()
		alice := auth.Attempt{Kind: auth.LoginAttempt, Account: "u:1", Addr: "192.0.2.7"}
		bob := auth.Attempt{Kind: auth.LoginAttempt, Account: "u:2", Addr: "192.0.2.7"}
		reserve := func(a auth.Attempt, allowed bool) {
			t.Helper()
			wait, err := p.Reserve(ctx, a)
			if err != nil || (wait == 0) != allowed {
				t.Fatalf("Reserve(%s from %s) = wait %s, %v; want allowed %v", a.Account, a.Addr, wait, err, allowed)
			}
		}
		reserve(alice, true)
		reserve(alice, true)
		reserve(alice, false) // alice's two are spent; the address has two left
		reserve(bob, true)
		if err := p.Succeeded(ctx, bob); err != nil {
			t.Fatal(err)
		}
		reserve(bob, true)
		reserve(bob, true) // bob's success cleared his count and refunded the address's
		reserve(bob, false)
		change := auth.Attempt{Kind: auth.PasswordChangeAttempt, Account: "u:1"}
		reserve(change, true)
		reserve(change, false)
	})
}

// TestTakeAllRefusesTwoSlots: limits taken together without one hash tag
// are refused by name on one Redis too, where the cluster's refusal would
// not show.
func TestTakeAllRefusesTwoSlots(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := ratelimit.New(rdb, prefix)
	r := ratelimit.Rate{Burst: 1, Every: time.Hour}
	_, err := l.TakeAll(context.Background(), ratelimit.Limit{Key: "a", Rate: r}, ratelimit.Limit{Key: "b", Rate: r})
	if !errors.Is(err, ratelimit.ErrCrossSlot) {
		t.Fatalf("TakeAll of untagged keys: %v, want ErrCrossSlot", err)
	}
	if err := l.Refund(context.Background(), ratelimit.Limit{Key: "x{1}", Rate: r}, ratelimit.Limit{Key: "x{2}", Rate: r}); !errors.Is(err, ratelimit.ErrCrossSlot) {
		t.Fatalf("Refund of two tags: %v, want ErrCrossSlot", err)
	}
}
