package session_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/session"
	"github.com/parley-chat/parley/internal/testenv"
)

// device describes a session created at t, seen last then.
func device(sid string, t time.Time) auth.SessionInfo {
	return auth.SessionInfo{ID: sid, CreatedAt: t, LastSeenAt: t, UserAgent: "agent of " + sid, Address: "192.0.2.7"}
}

func byID(list []auth.SessionInfo) []auth.SessionInfo {
	slices.SortFunc(list, func(a, b auth.SessionInfo) int { return strings.Compare(a.ID, b.ID) })
	return list
}

// TestListSessions: a user's sessions, wherever their keys live (on Redis
// Cluster, spread over the nodes), come back with what they recorded at
// login, and none of another user's.
func TestListSessions(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		t0 := time.Now().UTC().Truncate(time.Millisecond)
		var want []auth.SessionInfo
		for i := range 6 {
			d := device(fmt.Sprintf("s%d", i), t0.Add(time.Duration(i)*time.Second))
			if err := s.Create(ctx, 7, d, "h", time.Hour); err != nil {
				t.Fatal(err)
			}
			want = append(want, d)
		}
		if err := s.Create(ctx, 8, device("stranger", t0), "h", time.Hour); err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(byID(list), want) {
			t.Fatalf("sessions\n%+v\nwant\n%+v", list, want)
		}
		if list, err := s.List(ctx, 9); err != nil || len(list) != 0 {
			t.Fatalf("a user without sessions has %v, %v", list, err)
		}
	})
}

// TestListDropsEndedSessions: a session that expired or ended is not
// listed, and its entry leaves the user's index.
func TestListDropsEndedSessions(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		if err := s.Create(ctx, 7, device("short", now), "h", 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for _, sid := range []string{"kept", "ended"} {
			if err := s.Create(ctx, 7, device(sid, now), "h", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if ended, err := s.End(ctx, 7, "ended"); err != nil || !ended {
			t.Fatalf("End = %v, %v", ended, err)
		}
		waitGone(t, s, "short")
		list, err := s.List(ctx, 7)
		if err != nil || len(list) != 1 || list[0].ID != "kept" {
			t.Fatalf("sessions %+v, %v; want only kept", list, err)
		}
		index := prefix + "session:user:7"
		left, err := rdb.Do(ctx, rdb.B().Smembers().Key(index).Build()).AsStrSlice()
		if err != nil || !slices.Equal(left, []string{"kept"}) {
			t.Fatalf("the user's index holds %v, %v; want only kept", left, err)
		}
	})
}

func waitGone(t *testing.T, s *session.Store, sid string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := s.UserOf(context.Background(), sid, time.Now()); errors.Is(err, auth.ErrBadToken) {
			return
		}
	}
	t.Fatalf("session %s has not expired", sid)
}

// TestEndIsTheOwnersOnly: ending another user's session changes nothing
// and answers as for a gone one; ending one's own works once (and is seen
// at once: TestEndIsSeenAtOnce).
func TestEndIsTheOwnersOnly(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		if err := s.Create(ctx, 7, device("mine", time.Now()), "h", time.Hour); err != nil {
			t.Fatal(err)
		}
		if ended, err := s.End(ctx, 8, "mine"); err != nil || ended {
			t.Fatalf("another user's End = %v, %v; want false, nil", ended, err)
		}
		if uid, err := s.UserOf(ctx, "mine", time.Now()); err != nil || uid != 7 {
			t.Fatalf("after another user's End: %d, %v", uid, err)
		}
		if list, err := s.List(ctx, 7); err != nil || len(list) != 1 {
			t.Fatalf("after another user's End the owner lists %v, %v", list, err)
		}
		for i, want := range []bool{true, false} {
			if ended, err := s.End(ctx, 7, "mine"); err != nil || ended != want {
				t.Fatalf("End #%d = %v, %v; want %v", i+1, ended, err, want)
			}
		}
	})
}

// TestLastSeenIsWrittenOncePerMinute: authentications within SeenEvery of
// the last written time leave it; the first one after moves it.
func TestLastSeenIsWrittenOncePerMinute(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		t0 := time.Now().UTC().Truncate(time.Millisecond)
		if err := s.Create(ctx, 7, device("sid", t0), "h", time.Hour); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			at, want time.Time
		}{
			{t0.Add(session.SeenEvery / 2), t0},
			{t0.Add(session.SeenEvery + time.Second), t0.Add(session.SeenEvery + time.Second)},
			{t0.Add(session.SeenEvery * 3 / 2), t0.Add(session.SeenEvery + time.Second)},
		}
		for _, step := range steps {
			if _, err := s.UserOf(ctx, "sid", step.at); err != nil {
				t.Fatal(err)
			}
			list, err := s.List(ctx, 7)
			if err != nil || len(list) != 1 {
				t.Fatalf("sessions %v, %v", list, err)
			}
			if got := list[0].LastSeenAt; !got.Equal(step.want) || !list[0].CreatedAt.Equal(t0) {
				t.Fatalf("seen at +%s: last seen +%s, want +%s", step.at.Sub(t0), got.Sub(t0), step.want.Sub(t0))
			}
		}
	})
}

// TestRotateKeepsTheIndex: a session refreshed past its login's lifetime
// stays in its user's index, so it stays listed and EndOthers finds it.
func TestRotateKeepsTheIndex(t *testing.T) {
	testenv.EachRedis(t, func(t *testing.T, rdb rueidis.Client, prefix string) {
		s := session.New(rdb, prefix)
		ctx := context.Background()
		if err := s.Create(ctx, 7, device("sid", time.Now()), "h0", time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Rotate(ctx, "sid", "h0", "h1", time.Hour); err != nil {
			t.Fatal(err)
		}
		index := prefix + "session:user:7"
		ttl, err := rdb.Do(ctx, rdb.B().Pttl().Key(index).Build()).AsInt64()
		if err != nil || time.Duration(ttl)*time.Millisecond < time.Hour-time.Minute {
			t.Fatalf("the index lives %d ms more, %v; want the rotated session's hour", ttl, err)
		}
	})
}
