package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"buf.build/go/protovalidate"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// WebSocket limits.
const (
	wsReadLimit    = 64 << 10
	wsAuthTimeout  = 5 * time.Second
	wsWriteTimeout = 10 * time.Second
	wsPongWait     = 50 * time.Second
	wsPingEvery    = 20 * time.Second
	wsFrameRate    = 20 // frames per second a client may send, sustained
	wsFrameBurst   = 40
	// Client frames are small (resume, typing, ping), so a 1 KiB read
	// buffer does; an idle connection keeps it. Write buffers come from a
	// pool and are held only while a frame is written.
	wsReadBufferSize  = 1 << 10
	wsWriteBufferSize = 4 << 10
	// wsResumeWait is how long live delivery on a new socket waits for the
	// client's first frame: a client that resumes sends it right after
	// Ready, and its replay then comes before any live event, in seq order.
	// Events wait in the queue meanwhile; none is lost.
	wsResumeWait = time.Second
	// wsLinger bounds the wait for a client to close after the server's
	// close frame.
	wsLinger = time.Second
)

// Authenticator checks access tokens.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// WS serves the /ws endpoint.
type WS struct {
	hub      *Hub
	auth     Authenticator
	upgrader websocket.Upgrader
	log      *slog.Logger
}

// NewWS accepts browser upgrades from the server's own origin, same host
// and same scheme, or from the allowlist.
func NewWS(hub *Hub, a Authenticator, origins Origins, log *slog.Logger) *WS {
	return &WS{hub: hub, auth: a, log: log, upgrader: websocket.Upgrader{
		ReadBufferSize:  wsReadBufferSize,
		WriteBufferSize: wsWriteBufferSize,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     newOriginCheck(origins).allows,
	}}
}

// ServeHTTP upgrades and runs one connection.
func (w *WS) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var (
		p   auth.Principal
		err error
	)
	if token, ok := auth.BearerToken(r.Header.Get("Authorization")); ok {
		if p, err = w.auth.Authenticate(r.Context(), token); err != nil {
			http.Error(rw, "invalid or expired token", http.StatusUnauthorized)
			return
		}
	}
	hj := &batchHijacker{ResponseWriter: rw}
	conn, err := w.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	conn.SetReadLimit(wsReadLimit)
	c := &wsConn{id: newConnID(), conn: conn, out: hj.conn, ws: w, limiter: rate.NewLimiter(wsFrameRate, wsFrameBurst), heard: make(chan struct{})}
	// The connection lives on in a goroutine of its own, and this handler
	// returns: net/http's goroutine holds its 4 KiB read and write buffers
	// and the request until then, 10 KiB an idle connection would keep for
	// nothing. A hijacked request's context never ends by itself anyway.
	go func() {
		defer conn.Close()
		if err := hj.conn.Flush(); err != nil { // the 101 answer
			return
		}
		c.serve(context.WithoutCancel(r.Context()), p)
	}()
}

// wsConn is one WebSocket: the goroutine ServeHTTP starts reads, the feed's run loop
// is the only writer of data frames; pings go through WriteControl, which
// gorilla allows concurrently. Event frames gather in out until the feed's
// queue runs empty, then leave in one write.
type wsConn struct {
	id      string // names the connection in presence and in the log
	conn    *websocket.Conn
	out     *batchConn // conn writes through it; flush sends
	ws      *WS
	limiter *rate.Limiter
	// heard opens live delivery once the client's first frame is handled.
	heard     chan struct{}
	heardOnce sync.Once
	// closeCode is the close code that follows the frame the feed was
	// killed with; 0 means a normal closure.
	closeCode atomic.Int32
}

func (c *wsConn) serve(ctx context.Context, p auth.Principal) {
	if p.UserID == 0 {
		var ok bool
		if p, ok = c.authenticate(ctx); !ok {
			return
		}
	}
	f, ready, err := c.ws.hub.open(ctx, c.id, p)
	if err != nil {
		c.closeWith(ctx, c.errorFrame(ctx, err), websocket.CloseTryAgainLater)
		return
	}
	defer c.ws.hub.close(f)
	if err := c.frame(ctx, &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Ready{Ready: ready}}); err != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.schedulePing(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait := time.NewTimer(wsResumeWait)
		select {
		case <-c.heard:
		case <-wait.C:
		case <-f.crowded:
		case <-f.dead:
		case <-ctx.Done():
		}
		wait.Stop()
		err := f.run(ctx, c)
		if !errors.Is(err, context.Canceled) {
			c.closeAfter(f)
		}
		c.conn.Close()
	}()
	c.readLoop(ctx, f)
	cancel()
	<-done
}

// linger reads and drops what the client still sends until it closes too,
// for at most wsLinger. Closing a socket with unread input makes the kernel
// reset the connection, and the client could lose the frames saying why.
func (c *wsConn) linger() {
	_ = c.out.SetReadDeadline(time.Now().Add(wsLinger))
	_, _ = io.Copy(io.Discard, c.out.Conn)
}

// closeAfter closes the socket once the feed's run loop has ended: with
// the reason of the frame the feed was killed with, if it was.
func (c *wsConn) closeAfter(f *feed) {
	code, reason := websocket.CloseNormalClosure, ""
	select {
	case <-f.dead:
		reason = f.last.GetError().GetCode()
		if cc := c.closeCode.Load(); cc != 0 {
			code = int(cc)
		}
	default:
	}
	_ = c.control(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.linger()
}

// errorFrame is the error frame a client gets for err, by the rule every
// transport follows (chat.Report): an expected error keeps its message,
// worded for people; an internal or unavailable one gets a sentence, and
// its detail goes to the log under the connection's id.
func (c *wsConn) errorFrame(ctx context.Context, err error) *chatv1.ServerFrame {
	code, msg := chat.Report(ctx, c.ws.log, err, "conn_id", c.id)
	return errorFrame(string(code), msg)
}

// wsAuthFirst is what a socket without a bearer token must send first.
const wsAuthFirst = `the first frame must be {"auth":{"token":"…"}}`

// authenticate waits for the auth frame browsers send first, or closes the
// connection saying why not.
func (c *wsConn) authenticate(ctx context.Context) (auth.Principal, bool) {
	_ = c.conn.SetReadDeadline(time.Now().Add(wsAuthTimeout))
	frame, err := c.read()
	var bad *badFrame
	switch {
	case errors.Is(err, errInvalidUTF8):
		c.closeWith(ctx, invalidUTF8Frame, websocket.CloseInvalidFramePayloadData)
		return auth.Principal{}, false
	case errors.As(err, &bad):
		c.refuse(ctx, wsAuthFirst+": "+bad.Error())
		return auth.Principal{}, false
	case err != nil:
		// The read error names the server's own address: the log gets it,
		// the client a sentence.
		c.ws.log.InfoContext(ctx, "websocket: no auth frame", "conn_id", c.id, "err", err)
		c.refuse(ctx, fmt.Sprintf("no auth frame within %s; %s", wsAuthTimeout, wsAuthFirst))
		return auth.Principal{}, false
	case frame.GetAuth() == nil:
		c.refuse(ctx, wsAuthFirst)
		return auth.Principal{}, false
	}
	p, err := c.ws.auth.Authenticate(ctx, frame.GetAuth().GetToken())
	if err != nil {
		c.closeWith(ctx, c.errorFrame(ctx, err), websocket.ClosePolicyViolation)
		return auth.Principal{}, false
	}
	return p, true
}

// refuse closes an unauthenticated connection with the reason.
func (c *wsConn) refuse(ctx context.Context, msg string) {
	c.closeWith(ctx, errorFrame("unauthenticated", msg), websocket.ClosePolicyViolation)
}

// errInvalidUTF8 is a text frame that is not UTF-8, which RFC 6455 (8.1)
// says must fail the connection.
var errInvalidUTF8 = errors.New("text frame is not valid UTF-8")

// invalidUTF8Frame is the last frame of a connection that sent one.
var invalidUTF8Frame = errorFrame("invalid_argument", "a text frame was not valid UTF-8; text frames must be UTF-8 (RFC 6455), or send binary protobuf frames")

var frameValidator, _ = protovalidate.New()

// read reads and validates one client frame.
func (c *wsConn) read() (*chatv1.ClientFrame, error) {
	kind, data, err := c.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if kind == websocket.TextMessage && !utf8.Valid(data) {
		return nil, errInvalidUTF8
	}
	return decodeFrame(kind == websocket.BinaryMessage, data)
}

// decodeFrame parses a client frame, protojson in text frames and binary
// protobuf in binary ones, and checks it against the schema's rules. Every
// failure is a badFrame, which the connection answers and survives.
func decodeFrame(binary bool, data []byte) (*chatv1.ClientFrame, error) {
	var frame chatv1.ClientFrame
	var err error
	if binary {
		err = proto.Unmarshal(data, &frame)
	} else {
		err = protojson.Unmarshal(data, &frame)
	}
	if err != nil {
		return nil, &badFrame{fmt.Errorf("malformed frame: %v", err)}
	}
	if err := frameValidator.Validate(&frame); err != nil {
		return nil, &badFrame{err}
	}
	return &frame, nil
}

// badFrame is a frame the connection survives: it is answered with an error.
type badFrame struct{ err error }

func (b *badFrame) Error() string { return b.err.Error() }

func (c *wsConn) readLoop(ctx context.Context, f *feed) {
	_ = c.conn.SetReadDeadline(time.Now().Add(wsPongWait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(wsPongWait)) })
	for {
		frame, err := c.read()
		var bad *badFrame
		if errors.Is(err, errInvalidUTF8) {
			c.closeCode.Store(websocket.CloseInvalidFramePayloadData)
			f.kill(invalidUTF8Frame)
			return
		}
		if err != nil && !errors.As(err, &bad) {
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(wsPongWait))
		// Malformed frames count too: a flood of them is still a flood.
		if !c.limiter.Allow() {
			f.kill(errorFrame("resource_exhausted", fmt.Sprintf("more than %d frames per second", wsFrameRate)))
			return
		}
		if bad != nil {
			f.control(sendFrame(errorFrame("invalid_argument", bad.Error())))
		} else {
			c.handle(ctx, f, frame)
		}
		// A resume was queued by handle before this, and control requests go
		// before events, so the replay precedes live delivery.
		c.heardOnce.Do(func() { close(c.heard) })
	}
}

func (c *wsConn) handle(ctx context.Context, f *feed, frame *chatv1.ClientFrame) {
	switch k := frame.GetKind().(type) {
	case *chatv1.ClientFrame_Ping:
		f.control(sendFrame(&chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Pong{Pong: &chatv1.Pong{}}}))
	case *chatv1.ClientFrame_Resume:
		rooms := k.Resume.GetRooms()
		f.control(func(ctx context.Context, s sink) error {
			if err := f.resume(ctx, s, rooms); err != nil {
				return s.frame(ctx, c.errorFrame(ctx, err))
			}
			return nil
		})
	case *chatv1.ClientFrame_Typing:
		if err := c.ws.hub.chat.Typing(ctx, f.principal.UserID, k.Typing.GetRoomId()); err != nil {
			f.control(sendFrame(c.errorFrame(ctx, err)))
		}
	case *chatv1.ClientFrame_Auth:
		f.control(sendFrame(errorFrame("invalid_argument", "already authenticated")))
	}
}

func sendFrame(fr *chatv1.ServerFrame) func(context.Context, sink) error {
	return func(ctx context.Context, s sink) error { return s.frame(ctx, fr) }
}

// schedulePing pings after wsPingEvery, then again, until the connection
// ends. A timer instead of a goroutine per connection spares every idle
// connection a goroutine stack.
func (c *wsConn) schedulePing(ctx context.Context) {
	time.AfterFunc(wsPingEvery, func() {
		if ctx.Err() != nil {
			return
		}
		if err := c.control(websocket.PingMessage, nil, time.Now().Add(wsWriteTimeout)); err == nil {
			c.schedulePing(ctx)
		}
	})
}

func (c *wsConn) event(_ context.Context, it *item) error {
	data, err := it.jsonFrame()
	if err != nil {
		return err
	}
	return c.write(data)
}

// frame sends a frame other than an event at once.
func (c *wsConn) frame(_ context.Context, f *chatv1.ServerFrame) error {
	data, err := protojson.Marshal(f)
	if err != nil {
		return err
	}
	if err := c.write(data); err != nil {
		return err
	}
	return c.out.Flush()
}

// flush sends the events gathered since the last flush; the feed calls it
// when its queue runs empty.
func (c *wsConn) flush() error { return c.out.Flush() }

// control sends a control frame (ping, close) at once; gorilla allows it
// concurrently with data frames.
func (c *wsConn) control(kind int, data []byte, deadline time.Time) error {
	if err := c.conn.WriteControl(kind, data, deadline); err != nil {
		return err
	}
	return c.out.Flush()
}

func (c *wsConn) write(data []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	return c.conn.WriteMessage(websocket.TextMessage, data)
}

// closeWith sends a last frame and closes with a reason.
func (c *wsConn) closeWith(ctx context.Context, f *chatv1.ServerFrame, code int) {
	_ = c.frame(ctx, f)
	reason := f.GetError().GetCode()
	_ = c.control(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.linger()
}
