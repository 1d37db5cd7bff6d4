package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/testenv"
)

func TestTakeAllowsBurstThenRate(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		l := ratelimit.New(rdb, prefix)
		ctx := context.Background()
		r := ratelimit.Rate{Burst: 3, Every: 200 * time.Millisecond}
		for i := range 3 {
			if wait, err := l.Take(ctx, "k", r); err != nil || wait != 0 {
				t.Fatalf("event %d of the burst refused: wait %s, %v", i+1, wait, err)
			}
		}
		wait, err := l.Take(ctx, "k", r)
		if err != nil || wait <= 0 || wait > r.Every {
			t.Fatalf("fourth event: wait %s, %v; want a wait of at most %s", wait, err, r.Every)
		}
		time.Sleep(wait + 10*time.Millisecond)
		if wait, err := l.Take(ctx, "k", r); err != nil || wait != 0 {
			t.Fatalf("after waiting the hint: wait %s, %v", wait, err)
		}
		if err := l.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if wait, _ := l.Take(ctx, "k", r); wait != 0 {
			t.Fatal("reset did not clear the limit")
		}
	})
}

// TestTakeAllIsAllOrNothing: an event is recorded under every limit or under
// none, so a spent limit does not use up the others.
func TestTakeAllIsAllOrNothing(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		l := ratelimit.New(rdb, prefix)
		ctx := context.Background()
		// One hash tag, as limits taken together need.
		narrow := ratelimit.Limit{Key: "{t}narrow", Rate: ratelimit.Rate{Burst: 1, Every: time.Hour}}
		wide := ratelimit.Limit{Key: "{t}wide", Rate: ratelimit.Rate{Burst: 3, Every: time.Hour}}
		if wait, err := l.TakeAll(ctx, narrow, wide); err != nil || wait != 0 {
			t.Fatalf("first: wait %s, %v", wait, err)
		}
		for range 5 {
			if wait, _ := l.TakeAll(ctx, narrow, wide); wait < 59*time.Minute {
				t.Fatalf("narrow limit spent, yet the wait is %s, want about an hour", wait)
			}
		}
		// The refusals above took nothing from wide: two more of its burst.
		for i := range 2 {
			if wait, err := l.Take(ctx, wide.Key, wide.Rate); err != nil || wait != 0 {
				t.Fatalf("wide event %d refused (wait %s, %v): refused events were recorded", i+2, wait, err)
			}
		}
	})
}

// TestTakeWhichNamesTheSpentLimit: the refusal says which limit is spent,
// whatever its place among those taken together.
func TestTakeWhichNamesTheSpentLimit(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		l := ratelimit.New(rdb, prefix)
		ctx := context.Background()
		wide := ratelimit.Limit{Key: "{w}wide", Rate: ratelimit.Rate{Burst: 100, Every: time.Second}}
		narrow := ratelimit.Limit{Key: "{w}narrow", Rate: ratelimit.Rate{Burst: 1, Every: time.Hour}}
		if wait, which, err := l.TakeWhich(ctx, wide, narrow); err != nil || wait != 0 || which != -1 {
			t.Fatalf("first: wait %s, which %d, %v; want 0, -1, nil", wait, which, err)
		}
		if wait, which, err := l.TakeWhich(ctx, wide, narrow); err != nil || wait < 59*time.Minute || which != 1 {
			t.Fatalf("narrow spent: wait %s, which %d, %v; want about an hour, 1 (narrow)", wait, which, err)
		}
		if _, which, _ := l.TakeWhich(ctx, narrow, wide); which != 0 {
			t.Fatalf("narrow first and spent: which %d, want 0", which)
		}
	})
}

// TestTakeAllAdmitsBurstUnderConcurrency: 100 events at once on a burst of 5
// admit exactly 5; check and record are one step.
func TestTakeAllAdmitsBurstUnderConcurrency(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		l := ratelimit.New(rdb, prefix)
		lim := ratelimit.Limit{Key: "c", Rate: ratelimit.Rate{Burst: 5, Every: time.Hour}}
		var admitted atomic.Int32
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				wait, err := l.TakeAll(context.Background(), lim)
				if err != nil {
					t.Error(err)
				}
				if wait == 0 {
					admitted.Add(1)
				}
			})
		}
		wg.Wait()
		if n := admitted.Load(); n != 5 {
			t.Fatalf("%d of 100 concurrent events admitted, want 5", n)
		}
	})
}

// TestRefundGivesBackOneEvent: a refunded event can be taken again, and a
// refund never adds to the burst.
func TestRefundGivesBackOneEvent(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		l := ratelimit.New(rdb, prefix)
		ctx := context.Background()
		lim := ratelimit.Limit{Key: "r", Rate: ratelimit.Rate{Burst: 2, Every: time.Hour}}
		for range 2 {
			if wait, err := l.TakeAll(ctx, lim); err != nil || wait != 0 {
				t.Fatalf("burst refused: %s %v", wait, err)
			}
		}
		if err := l.Refund(ctx, lim); err != nil {
			t.Fatal(err)
		}
		if wait, _ := l.TakeAll(ctx, lim); wait != 0 {
			t.Fatal("the refunded event cannot be taken again")
		}
		if wait, _ := l.TakeAll(ctx, lim); wait == 0 {
			t.Fatal("one refund gave back more than one event")
		}
		for range 5 {
			if err := l.Refund(ctx, lim); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			wait, _ := l.TakeAll(ctx, lim)
			if allowed := i < 2; allowed != (wait == 0) {
				t.Fatalf("after refunding more than was taken, event %d: wait %s; want a burst of 2 again, no more", i+1, wait)
			}
		}
	})
}

func TestOnceAdmitsOnePerWindow(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		l := ratelimit.New(rdb, prefix)
		ctx := context.Background()
		if ok, err := l.Once(ctx, "o", time.Minute); !ok || err != nil {
			t.Fatalf("first: %v %v", ok, err)
		}
		if ok, _ := l.Once(ctx, "o", time.Minute); ok {
			t.Fatal("second call in the window admitted")
		}
	})
}
