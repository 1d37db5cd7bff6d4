package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Local keeps blobs as files in one directory, which replicas may share
// (one volume in compose). A Put writes a temporary file beside the final
// one, syncs it and renames it into place, so a crash or a cut upload
// never leaves a half-written blob under its key.
type Local struct {
	dir string
}

var _ Store = (*Local)(nil)

// tempPrefix marks files being written; Open never matches them, since
// keys cannot start with a dot.
const tempPrefix = ".put-"

// NewLocal uses dir, creating it if missing.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("PARLEY_BLOB_DIR %s cannot be created: %w", dir, err)
	}
	return &Local{dir: dir}, nil
}

// Put implements Store.
func (l *Local) Put(_ context.Context, key string, r io.Reader, limit int64) (n int64, err error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(l.dir, tempPrefix+"*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if n, err = io.Copy(f, LimitReader(r, limit)); err != nil {
		return 0, err
	}
	if err = f.Sync(); err != nil {
		return 0, err
	}
	if err = f.Close(); err != nil {
		return 0, err
	}
	if err = os.Rename(f.Name(), l.path(key)); err != nil {
		return 0, err
	}
	return n, syncDir(l.dir)
}

// syncDir makes the rename durable: without it a crash may forget it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open implements Store.
func (l *Local) Open(_ context.Context, key string) (Object, int64, error) {
	if err := CheckKey(key); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := os.Remove(l.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (l *Local) path(key string) string { return filepath.Join(l.dir, key) }
