package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"buf.build/go/protovalidate"
	"github.com/redis/rueidis"
	"google.golang.org/protobuf/proto"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/blob/s3"
	"github.com/parley-chat/parley/internal/bus"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/files"
	"github.com/parley-chat/parley/internal/httplog"
	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/session"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/ws"
)

// jwtSecretName is the server_secrets row holding the generated signing key.
const jwtSecretName = "jwt-hs256"

// fileSecretName is the server_secrets row of the download URLs' HMAC key,
// shared by every process so that any of them serves a URL another minted.
const fileSecretName = "file-url-hmac"

// Run is chatd: it serves until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := ParseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := slog.New(httplog.Handler{Handler: slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel})})

	log.Info("connecting to MySQL", "dsn", redactDSN(cfg.MySQLDSN))
	st, err := store.Open(ctx, cfg.MySQLDSN, cfg.MySQLTimeout, log)
	if err != nil {
		return err
	}
	defer st.Close()

	log.Info("connecting to Redis", "url", redactURL(cfg.RedisURL))
	rdb, err := openRedis(cfg.RedisURL, cfg.RedisTimeout)
	if err != nil {
		return err
	}
	defer rdb.Close()

	key, err := signingKey(ctx, cfg, st)
	if err != nil {
		return err
	}
	blobs, err := openBlobs(ctx, cfg, log)
	if err != nil {
		return err
	}
	fileKey, err := st.Secret(ctx, fileSecretName, newSecret)
	if err != nil {
		return err
	}
	srv, err := build(cfg, st, rdb, keys{jwt: key, files: fileKey}, blobs, log)
	if err != nil {
		return err
	}
	return srv.serve(ctx)
}

// signingKey is the configured key or one generated once and shared by all
// processes through MySQL, so tokens survive restarts without setup.
func signingKey(ctx context.Context, cfg Config, st *store.Store) ([]byte, error) {
	if cfg.JWTSecret != "" {
		return []byte(cfg.JWTSecret), nil
	}
	return st.Secret(ctx, jwtSecretName, newSecret)
}

// newSecret is a fresh 256-bit key.
func newSecret() ([]byte, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}

// openBlobs is the blob store: S3 when PARLEY_S3_ENDPOINT is set, else
// the PARLEY_BLOB_DIR directory.
func openBlobs(ctx context.Context, cfg Config, log *slog.Logger) (blob.Store, error) {
	if cfg.S3.Endpoint != "" {
		log.Info("keeping files in S3", "endpoint", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket)
		return s3.New(ctx, cfg.S3)
	}
	log.Info("keeping files in a directory", "dir", cfg.BlobDir)
	return blob.NewLocal(cfg.BlobDir)
}

// server is the assembled process.
type server struct {
	cfg      Config
	log      *slog.Logger
	http     *http.Server
	admin    *http.Server // nil when PARLEY_ADMIN_ADDR is off
	hub      *push.Hub
	bus      *bus.Bus
	presence *presence.Lifecycle
	files    *files.Files
	ready    *readiness
	conns    *connCap
	backlog  Backlog
}

// keys are the server's secrets: the access tokens' and the download
// URLs'.
type keys struct{ jwt, files []byte }

func build(cfg Config, st *store.Store, rdb rueidis.Client, key keys, blobs blob.Store, log *slog.Logger) (*server, error) {
	tracker := presence.New(rdb, cfg.RedisPrefix)
	events := bus.New(rdb, cfg.RedisPrefix, log)
	limiter := ratelimit.New(rdb, cfg.RedisPrefix)
	chatSvc := chat.NewService(st, tracker, events, limiter, log)
	lifecycle := presence.NewLifecycle(tracker, chatSvc, cfg.MaxConnsPerUser, log)
	hub := push.NewHub(chatSvc, st, lifecycle, events, push.Options{QueueSize: cfg.QueueSize, ResumeWindow: cfg.ResumeWindow}, log)
	authSvc, err := auth.NewService(st, session.New(rdb, cfg.RedisPrefix), events, ratelimit.NewPasswords(limiter, cfg.Passwords), key.jwt)
	if err != nil {
		return nil, err
	}
	validator, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	socket := ws.New(ws.Config{
		Feeds: hub, Auth: authSvc, Typing: chatSvc, Validate: func(m proto.Message) error { return validator.Validate(m) },
		Origins: ws.Origins{Allowed: cfg.AllowedOrigins, TrustedProxies: cfg.Limits.TrustedProxies}, Log: log,
	})
	ready := newReadiness(st, rdb, events, log)
	conns := newConnCap(cfg.MaxConnsPerIP, cfg.Limits.TrustedProxies)
	m := newMetrics(hub, events, st, rdb, conns)
	fileSvc := files.New(files.Config{
		MaxBytes: cfg.UploadMaxBytes, Quota: cfg.UploadQuota, MaxPixels: cfg.ImageMaxPixels, Rate: cfg.UploadRate,
	}, authSvc, st, blobs, limiter, files.NewSigner(key.files, cfg.FileURLTTL), log)
	chatSvc.UseTrash(fileSvc)
	mux := routes(cfg, authSvc, chatSvc, fileSvc, hub, socket, ready, limiter, m, log)
	var admin *http.Server
	if cfg.AdminAddr != "" {
		admin = newAdminServer(m, ready)
		admin.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return &server{
		cfg: cfg, log: log, hub: hub, bus: events, presence: lifecycle, ready: ready, admin: admin, conns: conns, files: fileSvc, backlog: st,
		http: newHTTPServer(cfg, httplog.Middleware(mux), log),
	}, nil
}

// The bus hands what it hears to the hub, and hears what the hub's
// connections need.
var (
	_ bus.Dispatcher = (*push.Hub)(nil)
	_ push.Topics    = (*bus.Bus)(nil)
)

func (s *server) serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (PARLEY_ADDR): %w", s.cfg.Addr, err)
	}
	runCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	go s.bus.Run(runCtx, s.hub)
	go s.presence.Run(runCtx)
	go s.files.RunSweeper(runCtx)
	go indexBacklog(runCtx, s.backlog, s.log)

	s.serveAdmin()
	s.log.Info("Parley is listening", "addr", ln.Addr().String(), "url", "http://"+displayAddr(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.conns.listener(ln)) }()
	select {
	case err := <-errc:
		if s.admin != nil {
			_ = s.admin.Close()
		}
		return err
	case <-ctx.Done():
	}
	return s.shutdown()
}

// shutdown stops accepting, tells live connections to reconnect elsewhere
// and waits for in-flight requests, within the configured timeout.
func (s *server) shutdown() error {
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	s.ready.draining.Store(true)
	s.hub.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := shutdownHTTP(ctx, s.http)
	// Shutdown does not wait for hijacked connections: wait until every
	// WebSocket has sent its reconnect frame and closed, or the process
	// could exit with those frames unsent.
	if err == nil {
		err = s.waitConnsClosed(ctx)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("shutdown timed out; closed remaining connections")
		err = nil
	}
	// The admin listener goes last, so metrics stay scrapable while the
	// server drains.
	if s.admin != nil {
		if aerr := shutdownHTTP(ctx, s.admin); aerr != nil && !errors.Is(aerr, context.DeadlineExceeded) {
			err = errors.Join(err, aerr)
		}
	}
	s.log.Info("stopped")
	return err
}

// drainPoll is how often shutdown checks whether the live connections have
// closed.
const drainPoll = 10 * time.Millisecond

func (s *server) waitConnsClosed(ctx context.Context) error {
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for s.hub.Conns() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// shutdownHTTP waits for hs's requests until ctx ends, then closes what is
// left; it returns context.DeadlineExceeded in that case.
func shutdownHTTP(ctx context.Context, hs *http.Server) error {
	err := hs.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		if cerr := hs.Close(); cerr != nil {
			return cerr
		}
	}
	return err
}

// displayAddr makes ":8080" into "127.0.0.1:8080" for the printed URL.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("127.0.0.1:%d", tcp.Port)
}
