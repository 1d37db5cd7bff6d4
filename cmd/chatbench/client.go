package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
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
	frames              atomic.Int64 // WebSocket messages read, each holding one or more events
	badBodies           atomic.Int64
	lastDelivery        atomic.Int64 // unix nanoseconds
	connectLat, sendLat histogram

	mu        sync.Mutex
	errKinds  map[string]int64
	protocols map[string]int64 // connected clients per -protocol in effect
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

// connectedWith counts a client that connected with the protocol in effect
// ("" counts it in no protocol).
func (t *tally) connectedWith(protocol string) {
	t.connected.Add(1)
	if protocol == "" {
		return
	}
	t.mu.Lock()
	if t.protocols == nil {
		t.protocols = map[string]int64{}
	}
	t.protocols[protocol]++
	t.mu.Unlock()
}

func (t *tally) protocolsInEffect() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.protocols)
}

// group says which counts a client adds to: every client's, and those of
// the members of every room too when it is one.
type group struct {
	everywhere bool // a member of every room: counted apart too
}

// each applies add to the counts the client adds to.
func (g group) each(t *tally, add func(*counts)) {
	add(&t.counts)
	if g.everywhere {
		add(&t.everywhere)
	}
}

// wsError counts a frame or event that should not have come, or a lost
// socket.
func (g group) wsError(t *tally, kind string) {
	g.each(t, func(k *counts) { k.wsErrors.Add(1) })
	t.fail(kind)
}

// deliver counts a delivery numbered n in an ordered stream (a room's
// seq, a channel's offset, one sender's sends) whose last number seen is
// last, or none when known is false: in order, a duplicate, or after a
// gap. It returns the stream's new last number.
func (g group) deliver(t *tally, last int64, known bool, n int64, body string, now time.Time) int64 {
	switch {
	case !known || n == last+1:
	case n <= last:
		g.each(t, func(k *counts) { k.duplicates.Add(1) })
		return last
	default:
		g.each(t, func(k *counts) { k.gaps.Add(n - last - 1) })
	}
	g.each(t, func(k *counts) { k.delivered.Add(1) })
	t.lastDelivery.Store(now.UnixNano())
	if sent, ok := sentAt(body); ok {
		g.each(t, func(k *counts) { k.e2e.record(now.Sub(sent)) })
	} else {
		t.badBodies.Add(1)
	}
	return n
}

// socket is one client's WebSocket, read by one goroutine.
type socket struct {
	conn    *websocket.Conn
	closing atomic.Bool
}

// readLoop hands each message to handle until the socket closes or until
// deadline; a socket lost before close is an error of g's.
func (s *socket) readLoop(t *tally, g group, deadline time.Time, handle func([]byte)) {
	_ = s.conn.SetReadDeadline(deadline)
	var buf bytes.Buffer
	for {
		_, r, err := s.conn.NextReader()
		if err != nil {
			if !s.closing.Load() {
				g.wsError(t, "socket lost: "+shortErr(err))
			}
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(io.LimitReader(r, maxFrameBytes)); err != nil {
			continue
		}
		t.frames.Add(1)
		handle(buf.Bytes())
	}
}

func (s *socket) close() {
	s.closing.Store(true)
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	s.conn.Close()
}

// wsClient is one WebSocket connection to chatd and, per room, the last
// seq it saw.
type wsClient struct {
	group
	socket
	last    map[int64]int64
	wire    wire    // how the server writes frames to this client
	generic bool    // decodes every frame in full (-client generic)
	early   []frame // frames that came after the Ready, in its message
}

var _ conn = (*wsClient)(nil)

// openSocket opens a WebSocket with the clients' small buffers and read
// limit, asking for the subprotocols.
func openSocket(ctx context.Context, wsURL string, h http.Header, subprotocols []string) (*websocket.Conn, error) {
	d := websocket.Dialer{
		HandshakeTimeout: dialTimeout, ReadBufferSize: wsReadBuffer, WriteBufferSize: wsWriteBuffer,
		Subprotocols: subprotocols,
	}
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
	return conn, nil
}

// dial opens a client for the user, asking for the server frames of
// protocol, and reads its Ready in the form the server chose.
func dial(ctx context.Context, base string, u *benchUser, protocol string) (*wsClient, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+u.Access)
	conn, err := openSocket(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", h, subprotocols(protocol))
	if err != nil {
		return nil, err
	}
	c, err := readReady(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// readReady reads the first message of a new connection, which must begin
// with the Ready: its cursors are where each room's seqs start.
func readReady(conn *websocket.Conn) (*wsClient, error) {
	w, err := wireOf(conn.Subprotocol())
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(dialTimeout))
	_, data, err := conn.ReadMessage()
	if err != nil {
		return nil, fmt.Errorf("read ready: %w", err)
	}
	frames, err := w.unmarshal(data)
	if err != nil || len(frames) == 0 || frames[0].GetReady() == nil {
		return nil, fmt.Errorf("expected ready (%s), got %.200q", w.name, data)
	}
	c := &wsClient{socket: socket{conn: conn}, last: map[int64]int64{}, wire: w}
	for _, cur := range frames[0].GetReady().GetCursors() {
		c.last[cur.GetRoomId()] = cur.GetAfterSeq()
	}
	for _, f := range frames[1:] {
		c.early = append(c.early, frameOf(f))
	}
	return c, nil
}

func (c *wsClient) read(t *tally, deadline time.Time) {
	now := time.Now()
	for _, f := range c.early {
		c.count(t, f, now)
	}
	c.early = nil
	c.readLoop(t, c.group, deadline, func(data []byte) { c.handle(t, data) })
}

// protocol is the -protocol value in effect.
func (c *wsClient) protocol() string { return c.wire.name }

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

// handle checks every frame of one message.
func (c *wsClient) handle(t *tally, data []byte) {
	now := time.Now()
	c.decode(data, func(f frame) { c.count(t, f, now) })
}

// count checks one frame.
func (c *wsClient) count(t *tally, f frame, now time.Time) {
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

// message counts a message event against its room's seq.
func (c *wsClient) message(t *tally, f frame, now time.Time) {
	last, known := c.last[f.room]
	c.last[f.room] = c.deliver(t, last, known, f.seq, f.body, now)
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

// senderKey names one sender of one run, whose sends a body numbers.
type senderKey struct{ run, sender string }

// bodySeq reads a body's sender and the number of the send (k), which
// count each sender's sends from 0.
func bodySeq(body string) (senderKey, int64, bool) {
	f := strings.SplitN(body, " ", 5)
	if len(f) < 4 || !strings.HasPrefix(f[2], "s") || !strings.HasPrefix(f[3], "n") {
		return senderKey{}, 0, false
	}
	k, err := strconv.ParseInt(f[3][1:], 10, 64)
	if err != nil {
		return senderKey{}, 0, false
	}
	return senderKey{run: f[1], sender: f[2]}, k, true
}
