// Package blob stores uploaded files' bytes under opaque keys. The store
// knows nothing of users or rooms: the uploads table says what a key is
// and who may read it. Two backends fill Store: Local (a directory, the
// default) and blob/s3 (any S3-compatible service, for several machines).
package blob

import (
	"context"
	"errors"
	"io"
	"regexp"
)

// ErrNotFound is a key the store does not hold.
var ErrNotFound = errors.New("blob not found")

// ErrTooLarge is a Put whose reader held more than its limit: nothing was
// stored.
var ErrTooLarge = errors.New("blob larger than its limit")

// Store holds blobs. A Put is all or nothing: a failed or cut-short Put
// leaves no blob behind, and no reader ever sees half a blob.
type Store interface {
	// Put stores r's bytes under key, at most limit of them, and returns
	// how many it stored. More than limit is ErrTooLarge.
	Put(ctx context.Context, key string, r io.Reader, limit int64) (int64, error)
	// Open returns the blob for reading with seeks (http.ServeContent's
	// Range requests), and its size. The caller closes it.
	Open(ctx context.Context, key string) (Object, int64, error)
	// Delete removes the blob; a missing one is no error.
	Delete(ctx context.Context, key string) error
}

// Object is an open blob.
type Object interface {
	io.ReadSeeker
	io.Closer
}

// keyPattern is what a key may look like: the server makes them (hex ids
// and a variant suffix), so anything else is a bug, refused before it can
// name a path outside the store.
var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)

// ErrBadKey is a key outside keyPattern.
var ErrBadKey = errors.New("blob key must be lower-case letters, digits, '.', '_' or '-'")

// CheckKey refuses keys outside keyPattern; every backend calls it.
func CheckKey(key string) error {
	if !keyPattern.MatchString(key) {
		return ErrBadKey
	}
	return nil
}

// LimitReader reads r until limit bytes, and fails with ErrTooLarge at the
// first byte past it, so a backend never stores a blob cut at the limit.
func LimitReader(r io.Reader, limit int64) io.Reader {
	return &limited{r: r, left: limit}
}

type limited struct {
	r    io.Reader
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, ErrTooLarge
	}
	// One byte more than allowed tells a reader at the limit from one past it.
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n - 1, ErrTooLarge
	}
	return n, err
}
