// Package ws serves /ws, Parley's WebSocket endpoint (gorilla/websocket): it
// authenticates the socket (a bearer header, or the first frame for
// browsers), decodes and validates the client's frames, and writes the
// connection's push.Feed as ServerFrames in the subprotocol the client
// asked for (JSON or protobuf, one frame per message or a batch of what
// waited), gathering them into one write while events wait.
package ws

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/push"
)

// WebSocket limits.
const (
	readLimit    = 64 << 10
	authTimeout  = 5 * time.Second
	writeTimeout = 10 * time.Second
	pongWait     = 50 * time.Second
	pingEvery    = 20 * time.Second
	frameRate    = 20 // frames per second a client may send, sustained
	frameBurst   = 40
	// Client frames are small (resume, typing, ping), so a 1 KiB read
	// buffer does; an idle connection keeps it. Write buffers come from a
	// pool and are held only while a frame is written.
	readBufferSize  = 1 << 10
	writeBufferSize = 4 << 10
	// linger bounds the wait for a client to close after the server's
	// close frame.
	linger = time.Second
)

// Feeds opens live connections; push.Hub fills it.
type Feeds interface {
	Open(ctx context.Context, id string, p auth.Principal, resume []push.Cursor) (*push.Feed, error)
}

// Authenticator checks access tokens.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// Typer relays that a user is typing in a room.
type Typer interface {
	Typing(ctx context.Context, userID, roomID int64) error
}

// Config is what a Handler needs.
type Config struct {
	Feeds  Feeds
	Auth   Authenticator
	Typing Typer
	// Validate checks a decoded client frame against the schema's rules
	// (protovalidate).
	Validate func(proto.Message) error
	Origins  Origins
	Log      *slog.Logger
}

// Handler serves the /ws endpoint.
type Handler struct {
	cfg      Config
	upgrader websocket.Upgrader
}

// New accepts browser upgrades from the server's own origin, same host and
// same scheme, or from the allowlist.
func New(cfg Config) *Handler {
	return &Handler{cfg: cfg, upgrader: websocket.Upgrader{
		ReadBufferSize:  readBufferSize,
		WriteBufferSize: writeBufferSize,
		WriteBufferPool: &sync.Pool{},
		Subprotocols:    subprotocols,
		CheckOrigin:     newOriginCheck(cfg.Origins).allows,
	}}
}

// ServeHTTP upgrades and runs one connection.
func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var (
		p   auth.Principal
		err error
	)
	if token, ok := auth.BearerToken(r.Header.Get("Authorization")); ok {
		if p, err = h.cfg.Auth.Authenticate(r.Context(), token); err != nil {
			http.Error(rw, "invalid or expired token", http.StatusUnauthorized)
			return
		}
	}
	hj := &batchHijacker{ResponseWriter: rw}
	c, err := h.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c.SetReadLimit(readLimit)
	sc := &conn{
		id: push.NewConnID(), conn: c, out: hj.conn, h: h,
		limiter: rate.NewLimiter(frameRate, frameBurst), proto: protocolOf(c.Subprotocol()),
	}
	// The connection lives on in a goroutine of its own, and this handler
	// returns: net/http's goroutine holds its 4 KiB read and write buffers
	// and the request until then, 10 KiB an idle connection would keep for
	// nothing. A hijacked request's context never ends by itself anyway.
	go func() {
		defer c.Close()
		if err := hj.conn.Flush(); err != nil { // the 101 answer
			return
		}
		sc.serve(context.WithoutCancel(r.Context()), p)
	}()
}
