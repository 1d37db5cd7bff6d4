package presence_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestTryAddCapsAcrossCallers: 20 connections of one user opened at once
// (as by several processes) count up to the cap and no further; closing
// them makes the user offline.
func TestTryAddCapsAcrossCallers(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		tr := presence.New(rdb, prefix)
		ctx := context.Background()
		const limit = 3
		var added atomic.Int32
		var mu sync.Mutex
		var conns []string
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				id := fmt.Sprintf("c%d", i)
				ok, err := tr.TryAdd(ctx, 42, id, limit)
				if err != nil {
					t.Error(err)
				}
				if ok {
					added.Add(1)
					mu.Lock()
					conns = append(conns, id)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if n := added.Load(); n != limit {
			t.Fatalf("%d of 20 concurrent connections admitted, want the cap of %d", n, limit)
		}
		if on := online(t, tr, 42); !on {
			t.Fatal("a user with live connections is offline")
		}
		for _, id := range conns {
			if err := tr.Remove(ctx, 42, id); err != nil {
				t.Fatal(err)
			}
		}
		if on := online(t, tr, 42); on {
			t.Fatal("a user whose connections all closed is online")
		}
		if ok, err := tr.TryAdd(ctx, 42, "again", limit); !ok || err != nil {
			t.Fatalf("after closing, a new connection: %v, %v; want admitted", ok, err)
		}
	})
}

// TestSettleTellsChangesOnce: the rooms are told a user came online once,
// not again while the user stays online, and once when the user goes.
func TestSettleTellsChangesOnce(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		tr := presence.New(rdb, prefix)
		ctx := context.Background()
		steps := []struct {
			name          string
			act           func() error
			changed, isOn bool
		}{
			{"FirstConnection", func() error { _, err := tr.TryAdd(ctx, 7, "a", 5); return err }, true, true},
			{"SecondConnection", func() error { _, err := tr.TryAdd(ctx, 7, "b", 5); return err }, false, true},
			{"OneCloses", func() error { return tr.Remove(ctx, 7, "a") }, false, true},
			{"LastCloses", func() error { return tr.Remove(ctx, 7, "b") }, true, false},
			{"NothingHappened", func() error { return nil }, false, false},
		}
		for _, s := range steps {
			if err := s.act(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			changed, on, err := tr.Settle(ctx, 7)
			if err != nil || changed != s.changed || (changed && on != s.isOn) {
				t.Fatalf("%s: Settle = changed %v, online %v, %v; want changed %v, online %v", s.name, changed, on, err, s.changed, s.isOn)
			}
		}
	})
}

// TestSweepTakesEachExpiredOnce: connections of a crashed process (not
// renewed for a TTL) are found by the sweep, in every group of users, each
// by exactly one of several processes sweeping at once; live connections
// stay. The swept users then settle as offline.
func TestSweepTakesEachExpiredOnce(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		ctx := context.Background()
		crashed := presence.New(rdb, prefix)
		past := time.Now().Add(-2 * presence.TTL)
		presence.SetClock(crashed, func() time.Time { return past })
		var want []int64
		for uid := int64(1); uid <= 40; uid++ { // more users than groups
			if ok, err := crashed.TryAdd(ctx, uid, "dead", 5); !ok || err != nil {
				t.Fatalf("add user %d: %v, %v", uid, ok, err)
			}
			if changed, on, err := crashed.Settle(ctx, uid); !changed || !on || err != nil {
				t.Fatalf("user %d came online: Settle = %v, %v, %v", uid, changed, on, err)
			}
			want = append(want, uid)
		}
		live := presence.New(rdb, prefix)
		if ok, err := live.TryAdd(ctx, 1000, "alive", 5); !ok || err != nil {
			t.Fatalf("add the live user: %v, %v", ok, err)
		}

		var mu sync.Mutex
		var got []int64
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				users, err := presence.New(rdb, prefix).Sweep(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				got = append(got, users...)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("three sweepers together found users %v, want each of %v exactly once", got, want)
		}
		if again, err := live.Sweep(ctx); err != nil || len(again) != 0 {
			t.Fatalf("a second sweep found %v, %v; want nothing", again, err)
		}
		for _, uid := range want {
			if on := online(t, live, uid); on {
				t.Fatalf("user %d of the crashed process is online", uid)
			}
			if changed, on, err := live.Settle(ctx, uid); !changed || on || err != nil {
				t.Fatalf("swept user %d: Settle = changed %v, online %v, %v; want offline, to be told", uid, changed, on, err)
			}
		}
		if on := online(t, live, 1000); !on {
			t.Fatal("the live user was swept")
		}
	})
}

func online(t *testing.T, tr *presence.Tracker, uid int64) bool {
	t.Helper()
	on, err := tr.Online(context.Background(), []int64{uid})
	if err != nil {
		t.Fatal(err)
	}
	return on[uid]
}
