package session_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/session"
	"github.com/parley-chat/parley/internal/testenv"
)

func TestRotateWorksOnce(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		if err := s.Create(ctx, 7, auth.SessionInfo{ID: "sid"}, "h0", time.Hour); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				uid, err := s.Rotate(ctx, "sid", "h0", "h1", time.Hour)
				switch {
				case err == nil && uid == 7:
					wins.Add(1)
				case !errors.Is(err, auth.ErrBadToken):
					t.Errorf("rotate: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent rotations of one refresh token succeeded, want 1", wins.Load())
		}
	})
}

func TestEndIsSeenAtOnce(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		if err := s.Create(ctx, 9, auth.SessionInfo{ID: "sid"}, "h", time.Hour); err != nil {
			t.Fatal(err)
		}
		for range 50 {
			if uid, err := s.UserOf(ctx, "sid", time.Now()); err != nil || uid != 9 {
				t.Fatalf("UserOf = %d, %v", uid, err)
			}
		}
		if ended, err := s.End(ctx, 9, "sid"); err != nil || !ended {
			t.Fatalf("End = %v, %v; want the session ended", ended, err)
		}
		// Refused from the very next check, not eventually.
		if _, err := s.UserOf(ctx, "sid", time.Now()); !errors.Is(err, auth.ErrBadToken) {
			t.Fatalf("deleted session still accepted: %v", err)
		}
	})
}

// TestReplayedRefreshEndsSession: a refresh hash that was current once and
// is shown again ends the session in the same step: the session is gone,
// its newest hash is refused too, and the user's index forgets it.
func TestReplayedRefreshEndsSession(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		for _, sid := range []string{"stolen", "kept"} {
			if err := s.Create(ctx, 7, auth.SessionInfo{ID: sid}, "h0", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Rotate(ctx, "stolen", "h0", "h1", time.Hour); err != nil {
			t.Fatal(err)
		}
		if uid, err := s.Rotate(ctx, "stolen", "h0", "h2", time.Hour); !errors.Is(err, auth.ErrRefreshReplayed) || uid != 7 {
			t.Fatalf("replayed rotation: user %d, %v; want user 7 (whose connections close), ErrRefreshReplayed", uid, err)
		}
		if _, err := s.UserOf(ctx, "stolen", time.Now()); !errors.Is(err, auth.ErrBadToken) {
			t.Fatalf("the replayed session lives on: %v", err)
		}
		if _, err := s.Rotate(ctx, "stolen", "h1", "h3", time.Hour); !errors.Is(err, auth.ErrBadToken) || errors.Is(err, auth.ErrRefreshReplayed) {
			t.Fatalf("the newest refresh hash after a replay: %v, want ErrBadToken (no session)", err)
		}
		if uid, err := s.UserOf(ctx, "kept", time.Now()); err != nil || uid != 7 {
			t.Fatalf("the user's other session: %d, %v", uid, err)
		}
		ended, err := s.EndOthers(ctx, 7, "")
		if err != nil || len(ended) != 1 || ended[0] != "kept" {
			t.Fatalf("sessions left in the user's index: %v, %v; want only kept", ended, err)
		}
	})
}

// TestEndOthersKeepsOne: a password change ends every other session of the
// user, wherever its key lives (on Redis Cluster, ten sessions spread over
// the nodes), and leaves the kept one and other users' sessions alone.
func TestEndOthersKeepsOne(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		var others []string
		for i := range 10 {
			sid := fmt.Sprintf("s%d", i)
			if err := s.Create(ctx, 7, auth.SessionInfo{ID: sid}, "h", time.Hour); err != nil {
				t.Fatal(err)
			}
			others = append(others, sid)
		}
		for sid, uid := range map[string]int64{"keep": 7, "stranger": 8} {
			if err := s.Create(ctx, uid, auth.SessionInfo{ID: sid}, "h", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		ended, err := s.EndOthers(ctx, 7, "keep")
		if err != nil {
			t.Fatal(err)
		}
		if slices.Sort(ended); !slices.Equal(ended, others) {
			t.Fatalf("ended %v, want %v", ended, others)
		}
		for _, sid := range others {
			if _, err := s.UserOf(ctx, sid, time.Now()); !errors.Is(err, auth.ErrBadToken) {
				t.Fatalf("ended session %s still accepted: %v", sid, err)
			}
		}
		for sid, uid := range map[string]int64{"keep": 7, "stranger": 8} {
			if got, err := s.UserOf(ctx, sid, time.Now()); err != nil || got != uid {
				t.Fatalf("session %s: user %d, %v; want %d", sid, got, err, uid)
			}
		}
		if again, err := s.EndOthers(ctx, 7, "keep"); err != nil || len(again) != 0 {
			t.Fatalf("a second EndOthers ended %v, %v; want none (the index forgot them)", again, err)
		}
	})
}
