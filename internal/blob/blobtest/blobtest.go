// Package blobtest is the behaviour every blob.Store backend owes, run by
// each backend's tests against a real store.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/parley-chat/parley/internal/blob"
)

// Run checks st: round trip, seeks, the limit, a cut-short Put, Delete.
func Run(t *testing.T, st blob.Store) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB
	t.Run("RoundTripAndSeek", func(t *testing.T) {
		n, err := st.Put(ctx, "round", bytes.NewReader(data), int64(len(data)))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Put = %d, %v; want %d, nil", n, err, len(data))
		}
		obj, size, err := st.Open(ctx, "round")
		if err != nil || size != int64(len(data)) {
			t.Fatalf("Open = %d, %v", size, err)
		}
		defer obj.Close()
		if _, err := obj.Seek(500_003, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, 7)
		if _, err := io.ReadFull(obj, part); err != nil || string(part) != "3456789" {
			t.Fatalf("read after seek = %q, %v", part, err)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		_, err := st.Put(ctx, "big", bytes.NewReader(data), int64(len(data))-1)
		if !errors.Is(err, blob.ErrTooLarge) {
			t.Fatalf("Put past the limit = %v, want ErrTooLarge", err)
		}
		assertMissing(t, st, "big")
	})
	t.Run("CutShortLeavesNothing", func(t *testing.T) {
		cut := io.MultiReader(bytes.NewReader(data[:300_000]), failing{})
		if _, err := st.Put(ctx, "cut", cut, int64(len(data))); err == nil {
			t.Fatal("Put of a failing reader succeeded")
		}
		assertMissing(t, st, "cut")
	})
	t.Run("Delete", func(t *testing.T) {
		if _, err := st.Put(ctx, "gone", bytes.NewReader(data[:10]), 10); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		assertMissing(t, st, "gone")
		if err := st.Delete(ctx, "gone"); err != nil {
			t.Fatalf("second Delete = %v, want nil", err)
		}
	})
	t.Run("ErrBadKey", func(t *testing.T) {
		if _, err := st.Put(ctx, "../escape", bytes.NewReader(nil), 1); !errors.Is(err, blob.ErrBadKey) {
			t.Fatalf("Put ../escape = %v, want ErrBadKey", err)
		}
	})
}

func assertMissing(t *testing.T, st blob.Store, key string) {
	t.Helper()
	if obj, _, err := st.Open(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
		if obj != nil {
			_ = obj.Close()
		}
		t.Fatalf("Open %s = %v, want ErrNotFound", key, err)
	}
}

// failing is a client that hangs up mid-body.
type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
