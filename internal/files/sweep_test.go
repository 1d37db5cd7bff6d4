package files_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/files"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

// flaky is a local store whose deletes fail while down is set: S3 out of
// reach.
type flaky struct {
	*blob.Local
	down bool
}

func (f *flaky) Delete(ctx context.Context, key string) error {
	if f.down {
		return errors.New("store unreachable")
	}
	return f.Local.Delete(ctx, key)
}

// TestSweep against the real MariaDB: an upload never attached is deleted
// after a day, blob and row, and a blob the store failed to delete is
// deleted by the next sweep.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, testenv.MySQLDSN(t), 10*time.Second, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u, err := st.CreateUser(ctx, chat.User{Username: "sweepy", Email: "s@example.com", DisplayName: "s", CreatedAt: time.Now().UTC()}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := &flaky{Local: local, down: true}
	f := files.New(files.Config{}, nil, st, blobs, nil, nil, log)
	now := time.Now().UTC().Truncate(time.Microsecond)
	old, fresh := uploadID(), uploadID()
	for id, age := range map[string]time.Duration{old: chat.AttachWindow + time.Minute, fresh: time.Hour} {
		if _, err := blobs.Put(ctx, id, bytes.NewReader([]byte("x")), 1); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUpload(ctx, chat.Attachment{ID: id, Kind: chat.FileAttachment, Filename: "x", ContentType: "text/plain", Size: 1, UploaderID: u.ID, CreatedAt: now.Add(-age)}, 100); err != nil {
			t.Fatal(err)
		}
	}
	// kept says whether each upload still has its row and its blob.
	kept := func(id string) (row, file bool) {
		t.Helper()
		_, err := st.Upload(ctx, id)
		obj, _, berr := blobs.Open(ctx, id)
		if berr == nil {
			obj.Close()
		}
		return err == nil, berr == nil
	}
	f.Sweep(ctx) // the store is down: the old upload's row goes, its blob waits in the trash
	if row, file := kept(old); row || !file {
		t.Fatalf("old upload after a sweep with the store down: row %v, blob %v; want false, true", row, file)
	}
	blobs.down = false
	f.Sweep(ctx)
	if row, file := kept(old); row || file {
		t.Fatalf("old upload after the next sweep: row %v, blob %v; want neither", row, file)
	}
	if row, file := kept(fresh); !row || !file {
		t.Fatalf("fresh upload swept: row %v, blob %v", row, file)
	}
	if trash, err := st.Trash(ctx); err != nil || len(trash) != 0 {
		t.Fatalf("trash after the sweep: %v, %v", trash, err)
	}
}

// uploadID is an id like the server's: 32 hex digits.
func uploadID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
