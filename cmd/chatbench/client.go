package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// Client-side WebSocket buffers: small, since thousands of clients share the
// box with the server being measured.
const (
	wsReadBuffer  = 2 << 10
	wsWriteBuffer = 512
	maxFrameBytes = 1 << 20
)

// counts is what a group of clients saw.
type counts struct {
	expected, delivered atomic.Int64
	gaps, duplicates    atomic.Int64
	wsErrors            atomic.Int64 // error, reconnect or too_far_behind frames, or lost sockets
	e2e                 histogram
}

// tally is what every client and sender adds to while a run goes on.
type tally struct {
	counts // every client
	// everywhere is what the members of every room saw, apart: each
	// receives every message, so they are the first to fall behind.
	everywhere          counts
	connected           atomic.Int64
	connectFailed       atomic.Int64
	acked, sendErrors   atomic.Int64
	otherEvents         atomic.Int64
	badBodies           atomic.Int64
	lastDelivery        atomic.Int64 // unix nanoseconds
	connectLat, sendLat histogram

	mu       sync.Mutex
	errKinds map[string]int64
}

func (t *tally) fail(kind string) {
	t.mu.Lock()
	if t.errKinds == nil {
		t.errKinds = map[string]int64{}
	}
	t.errKinds[kind]++
	t.mu.Unlock()
}

func (t *tally) errorKinds() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int64, len(t.errKinds))
	for k, v := range t.errKinds {
		out[k] = v
	}
	return out
}

// wsClient is one WebSocket connection and, per room, the last seq it saw.
type wsClient struct {
	conn       *websocket.Conn
	last       map[int64]int64
	closing    atomic.Bool
	everywhere bool // a member of every room: counted apart too
	generic    bool // decodes every frame in full (-client generic)
}

// each applies add to the counts the client adds to.
func (c *wsClient) each(t *tally, add func(*counts)) {
	add(&t.counts)
	if c.everywhere {
		add(&t.everywhere)
	}
}

// wsError counts a frame or event that should not have come, or a lost
// socket.
func (c *wsClient) wsError(t *tally, kind string) {
	c.each(t, func(k *counts) { k.wsErrors.Add(1) })
	t.fail(kind)
}

// dial opens a client for the user and reads its Ready.
func dial(ctx context.Context, base string, u *benchUser) (*wsClient, error) {
	d := websocket.Dialer{HandshakeTimeout: dialTimeout, ReadBufferSize: wsReadBuffer, WriteBufferSize: wsWriteBuffer}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+u.Access)
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, resp, err := d.DialContext(ctx, wsURL, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: HTTP %d", resp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	conn.SetReadLimit(maxFrameBytes)
	_ = conn.SetReadDeadline(time.Now().Add(dialTimeout))
	_, data, err := conn.ReadMessage()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read ready: %w", err)
	}
	var f chatv1.ServerFrame
	if err := protojson.Unmarshal(data, &f); err != nil || f.GetReady() == nil {
		conn.Close()
		return nil, fmt.Errorf("expected ready, got %.200s", data)
	}
	c := &wsClient{conn: conn, last: map[int64]int64{}}
	for _, cur := range f.GetReady().GetCursors() {
		c.last[cur.GetRoomId()] = cur.GetAfterSeq()
	}
	// The server holds live events back until the client's first frame (a
	// resume would go there); a ping opens delivery at once.
	_ = conn.SetWriteDeadline(time.Now().Add(dialTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"ping":{}}`)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("write ping: %w", err)
	}
	return c, nil
}

// read handles frames until the socket closes or until deadline.
func (c *wsClient) read(t *tally, deadline time.Time) {
	_ = c.conn.SetReadDeadline(deadline)
	var buf bytes.Buffer
	for {
		_, r, err := c.conn.NextReader()
		if err != nil {
			if !c.closing.Load() {
				c.wsError(t, "socket lost: "+shortErr(err))
			}
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(io.LimitReader(r, maxFrameBytes)); err != nil {
			continue
		}
		c.handle(t, buf.Bytes())
	}
}

func shortErr(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("close %d %s", ce.Code, ce.Text)
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// handle checks one frame.
func (c *wsClient) handle(t *tally, data []byte) {
	now := time.Now()
	f := c.decode(data)
	switch f.kind {
	case frameMessage:
		c.message(t, f, now)
	case frameOtherEvent:
		t.otherEvents.Add(1)
	case framePong:
	case frameTooFarBehind:
		c.wsError(t, "too_far_behind")
	case frameError:
		c.wsError(t, "ws error frame: "+f.code)
	case frameReconnect:
		c.wsError(t, "reconnect frame")
	case frameBadBody:
		t.badBodies.Add(1)
	default:
		c.wsError(t, "undecodable frame")
	}
}

// message counts a message event: in order, a duplicate, or after a gap.
func (c *wsClient) message(t *tally, f frame, now time.Time) {
	switch last, known := c.last[f.room]; {
	case !known || f.seq == last+1:
		c.last[f.room] = f.seq
	case f.seq <= last:
		c.each(t, func(k *counts) { k.duplicates.Add(1) })
		return
	default:
		c.each(t, func(k *counts) { k.gaps.Add(f.seq - last - 1) })
		c.last[f.room] = f.seq
	}
	c.each(t, func(k *counts) { k.delivered.Add(1) })
	t.lastDelivery.Store(now.UnixNano())
	if sent, ok := sentAt(f.body); ok {
		c.each(t, func(k *counts) { k.e2e.record(now.Sub(sent)) })
		return
	}
	t.badBodies.Add(1)
}

// body is "t<unix nanoseconds> <run> s<sender> n<k> xxx…": the timestamp of
// the send first, so the receiver reads it without a parser.
func body(size int, sent time.Time, run string, sender, k int) string {
	s := fmt.Sprintf("t%d %s s%d n%d ", sent.UnixNano(), run, sender, k)
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

func sentAt(body string) (time.Time, bool) {
	if !strings.HasPrefix(body, "t") {
		return time.Time{}, false
	}
	end := strings.IndexByte(body, ' ')
	if end < 0 {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(body[1:end], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

func (c *wsClient) close() {
	c.closing.Store(true)
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.conn.Close()
}
