package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
	"github.com/parley-chat/parley/internal/push"
)

// Errors a socket is told in words of its own.
var (
	// authFirst is what a socket without a bearer token must send first.
	authFirst                     = `the first frame must be {"auth":{"token":"…"}}`
	errAlreadyAuthenticated error = &chat.Error{Kind: chat.ErrInvalid, Msg: "already authenticated"}
	errFlood                error = &chat.Error{Kind: chat.ErrExhausted, Msg: fmt.Sprintf("more than %d frames per second", frameRate)}
)

// conn is one WebSocket: the goroutine ServeHTTP starts opens the feed and
// runs its loop, the only writer of data frames; a goroutine of its own
// reads the client's frames; pings go through
// WriteControl, which gorilla allows concurrently. Event frames gather in
// out until the feed's queue runs empty, then leave in one write.
type conn struct {
	id      string // names the connection in presence and in the log
	conn    *websocket.Conn
	out     *batchConn // conn writes through it; flush sends
	h       *Handler
	limiter *rate.Limiter
	proto   protocol
	// pending are a batch protocol's encoded frames that wait for the
	// next message; pendingBytes is their size.
	pending      [][]byte
	pendingBytes int
	// closeCode is the close code that follows the frame the feed was
	// ended with; 0 means a normal closure. The reader sets it.
	closeCode atomic.Int32
	// reason is the code of the error the server ended the connection
	// with, for the close frame; the run loop sets it.
	reason chat.Code
}

var _ push.Sink = (*conn)(nil)

func (c *conn) serve(ctx context.Context, p auth.Principal) {
	var resume []push.Cursor
	if p.UserID == 0 {
		var ok bool
		if p, resume, ok = c.authenticate(ctx); !ok {
			return
		}
	}
	f, err := c.h.cfg.Feeds.Open(ctx, c.id, p, resume)
	if err != nil {
		c.closeWith(ctx, err, websocket.CloseTryAgainLater)
		return
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.schedulePing(ctx)
	// The reader gets a fresh goroutine and this one, whose stack opening
	// the feed grew, writes: an idle connection's reader then keeps a
	// small stack, where the writer would have kept the Ready's encoding's.
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.readLoop(ctx, f, p)
		cancel()
	}()
	err = f.Run(ctx, c)
	if !errors.Is(err, context.Canceled) {
		c.closeAfter()
	}
	c.conn.Close()
	<-done
}

// linger reads and drops what the client still sends until it closes too,
// for at most linger. Closing a socket with unread input makes the kernel
// reset the connection, and the client could lose the frames saying why.
func (c *conn) linger() {
	_ = c.out.SetReadDeadline(time.Now().Add(linger))
	_, _ = io.Copy(io.Discard, c.out.Conn)
}

// closeAfter closes the socket once the feed's run loop has ended: with
// the reason the feed was ended with, if it was.
func (c *conn) closeAfter() {
	code := websocket.CloseNormalClosure
	if cc := c.closeCode.Load(); cc != 0 {
		code = int(cc)
	}
	_ = c.control(websocket.CloseMessage, websocket.FormatCloseMessage(code, string(c.reason)), time.Now().Add(time.Second))
	c.linger()
}

// errorFrame is the error frame a client gets for err, by the rule every
// transport follows (chat.Report): an expected error keeps its message,
// worded for people; an internal or unavailable one gets a sentence, and
// its detail goes to the log under the connection's id.
func (c *conn) errorFrame(ctx context.Context, err error) (*chatv1.ServerFrame, chat.Code) {
	code, msg := chat.Report(ctx, c.h.cfg.Log, err, "conn_id", c.id)
	if code == chat.CodeInternal {
		msg += " under connection id " + c.id
	}
	// A message may quote the client's input, and a frame that is not
	// UTF-8 could not be sent at all.
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	return &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Error{Error: &chatv1.Error{Code: string(code), Message: msg}}}, code
}

// authenticate waits for the auth frame browsers send first, with the
// cursors to resume from, or closes the connection saying why not.
func (c *conn) authenticate(ctx context.Context) (auth.Principal, []push.Cursor, bool) {
	_ = c.conn.SetReadDeadline(time.Now().Add(authTimeout))
	frame, err := c.read()
	switch {
	case errors.Is(err, errInvalidUTF8):
		c.closeWith(ctx, err, websocket.CloseInvalidFramePayloadData)
		return auth.Principal{}, nil, false
	case isBad(err):
		c.refuse(ctx, authFirst+": "+err.Error())
		return auth.Principal{}, nil, false
	case err != nil:
		// The read error names the server's own address: the log gets it,
		// the client a sentence.
		c.h.cfg.Log.InfoContext(ctx, "websocket: no auth frame", "conn_id", c.id, "err", err)
		c.refuse(ctx, fmt.Sprintf("no auth frame within %s; %s", authTimeout, authFirst))
		return auth.Principal{}, nil, false
	case frame.GetAuth() == nil:
		c.refuse(ctx, authFirst)
		return auth.Principal{}, nil, false
	}
	p, err := c.h.cfg.Auth.Authenticate(ctx, frame.GetAuth().GetToken())
	if err != nil {
		c.closeWith(ctx, err, websocket.ClosePolicyViolation)
		return auth.Principal{}, nil, false
	}
	return p, protoconv.Cursors(frame.GetAuth().GetResume()), true
}

// refuse closes an unauthenticated connection with the reason.
func (c *conn) refuse(ctx context.Context, msg string) {
	c.closeWith(ctx, &chat.Error{Kind: chat.ErrUnauthenticated, Msg: msg}, websocket.ClosePolicyViolation)
}

func (c *conn) readLoop(ctx context.Context, f *push.Feed, p auth.Principal) {
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		frame, err := c.read()
		if errors.Is(err, errInvalidUTF8) {
			c.closeCode.Store(websocket.CloseInvalidFramePayloadData)
			f.Kill(err)
			return
		}
		if err != nil && !isBad(err) {
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
		// Malformed frames count too: a flood of them is still a flood.
		if !c.limiter.Allow() {
			f.Kill(errFlood)
			return
		}
		if err != nil {
			c.reply(f, err)
		} else {
			c.handle(ctx, f, p, frame)
		}
	}
}

func (c *conn) handle(ctx context.Context, f *push.Feed, p auth.Principal, frame *chatv1.ClientFrame) {
	switch k := frame.GetKind().(type) {
	case *chatv1.ClientFrame_Ping:
		f.Control(func(ctx context.Context) error {
			return c.frame(ctx, &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Pong{Pong: &chatv1.Pong{}}})
		})
	case *chatv1.ClientFrame_Resume:
		f.Resume(protoconv.Cursors(k.Resume.GetRooms()))
	case *chatv1.ClientFrame_Typing:
		if err := c.h.cfg.Typing.Typing(ctx, p.UserID, k.Typing.GetRoomId()); err != nil {
			c.reply(f, err)
		}
	case *chatv1.ClientFrame_Auth:
		c.reply(f, errAlreadyAuthenticated)
	}
}

// reply answers a frame that failed with an error frame, written in order
// by the connection's writer.
func (c *conn) reply(f *push.Feed, err error) {
	f.Control(func(ctx context.Context) error { return c.Error(ctx, err) })
}

// schedulePing pings after pingEvery, then again, until the connection
// ends. A timer instead of a goroutine per connection spares every idle
// connection a goroutine stack.
func (c *conn) schedulePing(ctx context.Context) {
	time.AfterFunc(pingEvery, func() {
		if ctx.Err() != nil {
			return
		}
		if err := c.control(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err == nil {
			c.schedulePing(ctx)
		}
	})
}

// Ready sends the connection's first frame.
func (c *conn) Ready(ctx context.Context, r push.Ready) error {
	return c.frame(ctx, &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Ready{Ready: protoconv.Ready(r)}})
}

// Event writes the item's frame, encoded once for every socket of the
// protocol.
func (c *conn) Event(_ context.Context, it *push.Item) error {
	data, err := it.Wire(c.proto.key, c.proto.encodeEvent)
	if err != nil {
		return err
	}
	return c.send(data.([]byte))
}

// Error answers a failed request with an error frame; the connection goes
// on.
func (c *conn) Error(ctx context.Context, err error) error {
	fr, _ := c.errorFrame(ctx, err)
	return c.frame(ctx, fr)
}

// Fail sends the error the server ends the connection with; its code is the
// close frame's reason.
func (c *conn) Fail(ctx context.Context, err error) error {
	fr, code := c.errorFrame(ctx, err)
	c.reason = code
	return c.frame(ctx, fr)
}

// Reconnect asks the client to come back after delay.
func (c *conn) Reconnect(ctx context.Context, delay time.Duration, reason string) error {
	return c.frame(ctx, &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Reconnect{Reconnect: &chatv1.Reconnect{
		DelayMs: delay.Milliseconds(), Reason: reason,
	}}})
}

// frame sends a frame other than an event at once, after what waits.
func (c *conn) frame(_ context.Context, f *chatv1.ServerFrame) error {
	data, err := c.proto.encode(f)
	if err != nil {
		return err
	}
	if err := c.send(data); err != nil {
		return err
	}
	return c.Flush()
}

// Flush sends the frames gathered since the last flush; the feed calls it
// when its queue runs empty.
func (c *conn) Flush() error {
	if err := c.writeBatch(); err != nil {
		return err
	}
	return c.out.Flush()
}

// control sends a control frame (ping, close) at once; gorilla allows it
// concurrently with data frames.
func (c *conn) control(kind int, data []byte, deadline time.Time) error {
	if err := c.conn.WriteControl(kind, data, deadline); err != nil {
		return err
	}
	return c.out.Flush()
}

// send writes one encoded frame: as a message of its own, or into the
// batch, which becomes a message at the next Flush or once it is large.
func (c *conn) send(data []byte) error {
	if !c.proto.batch {
		_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		return c.conn.WriteMessage(c.proto.messageType(), data)
	}
	c.pending = append(c.pending, data)
	c.pendingBytes += len(data)
	if c.pendingBytes >= batchFlushBytes {
		return c.writeBatch()
	}
	return nil
}

// writeBatch writes the pending frames as one ServerFrames message.
func (c *conn) writeBatch() error {
	if len(c.pending) == 0 {
		return nil
	}
	defer func() {
		clear(c.pending) // the frames are shared items': let them go
		c.pending, c.pendingBytes = c.pending[:0], 0
	}()
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	w, err := c.conn.NextWriter(c.proto.messageType())
	if err != nil {
		return err
	}
	if err := c.proto.writeFrames(w, c.pending); err != nil {
		return err
	}
	return w.Close()
}

// closeWith tells the client err and closes with a reason.
func (c *conn) closeWith(ctx context.Context, err error, code int) {
	fr, reason := c.errorFrame(ctx, err)
	_ = c.frame(ctx, fr)
	_ = c.control(websocket.CloseMessage, websocket.FormatCloseMessage(code, string(reason)), time.Now().Add(time.Second))
	c.linger()
}
