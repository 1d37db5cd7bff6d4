// Package files is the HTTP side of uploads: POST /v1/uploads, signed
// downloads under /v1/files/, profile pictures under /v1/avatars/, and the
// sweeper that deletes what no message holds. The bytes go to a blob.Store,
// the rows to the store, what a file is to media.
package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/ratelimit"
)

// Config is what limits uploads.
type Config struct {
	// MaxBytes is the largest upload (PARLEY_UPLOAD_MAX_BYTES).
	MaxBytes int64
	// Quota bounds one user's kept uploads, attached or not
	// (PARLEY_UPLOAD_QUOTA_BYTES).
	Quota int64
	// MaxPixels is the largest image decoded (PARLEY_IMAGE_MAX_PIXELS).
	MaxPixels int64
	// Rate limits each user's uploads (PARLEY_LIMIT_UPLOAD).
	Rate ratelimit.Rate
}

// Auth checks bearer tokens and says whose a session is.
type Auth interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
	SessionUser(ctx context.Context, sessionID string) (int64, error)
}

// Store keeps the uploads' rows (store.Store).
type Store interface {
	CreateUpload(ctx context.Context, a chat.Attachment, quota int64) error
	Upload(ctx context.Context, id string) (chat.Attachment, error)
	MayReadUpload(ctx context.Context, userID int64, id string) (bool, error)
	StaleUploads(ctx context.Context, cutoff time.Time) ([]string, error)
	TrashUpload(ctx context.Context, id string, now time.Time) error
	Trash(ctx context.Context) ([]string, error)
	Untrash(ctx context.Context, key string) error
}

// Limiter is the shared rate limiter (ratelimit.Limiter).
type Limiter interface {
	Take(ctx context.Context, key string, r ratelimit.Rate) (time.Duration, error)
}

// Files serves uploads and downloads and sweeps.
type Files struct {
	cfg     Config
	auth    Auth
	store   Store
	blobs   blob.Store
	limiter Limiter
	signer  *Signer
	log     *slog.Logger
	now     func() time.Time
	kick    chan struct{}
}

// New wires the files' side.
func New(cfg Config, a Auth, st Store, blobs blob.Store, l Limiter, signer *Signer, log *slog.Logger) *Files {
	return &Files{cfg: cfg, auth: a, store: st, blobs: blobs, limiter: l, signer: signer, log: log, now: time.Now, kick: make(chan struct{}, 1)}
}

var _ chat.Trash = (*Files)(nil)

// newID is an upload's or avatar's id: 128 random bits in hex, which
// blob.CheckKey accepts and nobody can guess.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand does not fail
	return hex.EncodeToString(b)
}

// transferTimeout is how long an upload's body or a download's reply may
// take, instead of the server's seconds for RPCs: 25 MiB over a slow
// phone link takes minutes.
const transferTimeout = 10 * time.Minute

// allowSlowTransfer lifts the server's per-request deadlines for a file.
func allowSlowTransfer(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(transferTimeout)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
}

// Signer mints the download URLs of attachments shown to callers.
func (f *Files) Signer() *Signer { return f.signer }
