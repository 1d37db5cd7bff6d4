package auth

import (
	"context"
	"runtime"

	"github.com/alexedwards/argon2id"
)

// hashParams follow OWASP's argon2id minimum (19 MiB, 2 passes), about 30 ms
// on one core.
var hashParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// hasher bounds concurrent hashing so a flood of logins costs CPU time, not
// unbounded memory (each hash holds 19 MiB).
type hasher struct {
	slots chan struct{}
	dummy string
}

func newHasher() (*hasher, error) {
	h := &hasher{slots: make(chan struct{}, 2*runtime.NumCPU())}
	dummy, err := argon2id.CreateHash("parley-dummy-password", hashParams)
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

func (h *hasher) acquire(ctx context.Context) error {
	// A call already given up hashes nothing, even when a slot is free
	// (select would pick at random).
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.slots }

func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return argon2id.CreateHash(password, hashParams)
}

// verify compares in constant time. An empty hash (unknown account) is
// checked against a dummy so the answer takes as long as for a real one.
func (h *hasher) verify(ctx context.Context, password, hash string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, h.dummy)
		return false, nil
	}
	return argon2id.ComparePasswordAndHash(password, hash)
}
