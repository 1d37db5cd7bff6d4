package session_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/session"
	"github.com/parley-chat/parley/internal/testenv"
)

func TestRotateWorksOnce(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	s := session.New(rdb, prefix)
	ctx := context.Background()
	if err := s.Create(ctx, "sid", 7, "h0", time.Hour); err != nil {
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
}

func TestDeleteIsSeenAtOnce(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	s := session.New(rdb, prefix)
	ctx := context.Background()
	if err := s.Create(ctx, "sid", 9, "h", time.Hour); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if uid, err := s.UserOf(ctx, "sid"); err != nil || uid != 9 {
			t.Fatalf("UserOf = %d, %v", uid, err)
		}
	}
	if err := s.Delete(ctx, "sid"); err != nil {
		t.Fatal(err)
	}
	// Refused from the very next check, not eventually.
	if _, err := s.UserOf(ctx, "sid"); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("deleted session still accepted: %v", err)
	}
}

// TestReplayedRefreshEndsSession: a refresh hash that was current once and
// is shown again ends the session in the same step: the session is gone,
// its newest hash is refused too, and the user's index forgets it.
func TestReplayedRefreshEndsSession(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	s := session.New(rdb, prefix)
	ctx := context.Background()
	for _, sid := range []string{"stolen", "kept"} {
		if err := s.Create(ctx, sid, 7, "h0", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Rotate(ctx, "stolen", "h0", "h1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if uid, err := s.Rotate(ctx, "stolen", "h0", "h2", time.Hour); !errors.Is(err, auth.ErrRefreshReplayed) || uid != 7 {
		t.Fatalf("replayed rotation: user %d, %v; want 7 and ErrRefreshReplayed", uid, err)
	}
	if _, err := s.UserOf(ctx, "stolen"); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("the replayed session lives on: %v", err)
	}
	if _, err := s.Rotate(ctx, "stolen", "h1", "h3", time.Hour); !errors.Is(err, auth.ErrBadToken) || errors.Is(err, auth.ErrRefreshReplayed) {
		t.Fatalf("the newest refresh hash after a replay: %v, want ErrBadToken (no session)", err)
	}
	if uid, err := s.UserOf(ctx, "kept"); err != nil || uid != 7 {
		t.Fatalf("the user's other session: %d, %v", uid, err)
	}
	ended, err := s.EndOthers(ctx, 7, "")
	if err != nil || len(ended) != 1 || ended[0] != "kept" {
		t.Fatalf("sessions left in the user's index: %v, %v; want only kept", ended, err)
	}
}
