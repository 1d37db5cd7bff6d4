package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/testenv"
)

func TestTakeAllowsBurstThenRate(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
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
	if peek, _ := l.Peek(ctx, "k", r); peek <= 0 {
		t.Fatal("peek says allowed while over the rate")
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
}

func TestPeekRecordsNothing(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := ratelimit.New(rdb, prefix)
	r := ratelimit.Rate{Burst: 1, Every: time.Hour}
	for range 5 {
		if wait, err := l.Peek(context.Background(), "p", r); err != nil || wait != 0 {
			t.Fatalf("peek: %s %v", wait, err)
		}
	}
}

func TestOnceAdmitsOnePerWindow(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := ratelimit.New(rdb, prefix)
	ctx := context.Background()
	if ok, err := l.Once(ctx, "o", time.Minute); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	if ok, _ := l.Once(ctx, "o", time.Minute); ok {
		t.Fatal("second call in the window admitted")
	}
}
