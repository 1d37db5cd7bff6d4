package ws

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// batchFlushBytes bounds what one connection gathers before writing anyway.
const batchFlushBytes = 32 << 10

// batchPool lends gathering buffers only while a connection has unsent
// frames, so an idle connection holds none.
var batchPool = sync.Pool{New: func() any {
	b := make([]byte, 0, batchFlushBytes)
	return &b
}}

// batchConn gathers a WebSocket's frames and sends them with one write
// system call on Flush: a connection that has several events queued pays
// one call for all of them, not one per frame. gorilla/websocket writes
// through it, data frames and control frames alike.
type batchConn struct {
	net.Conn
	mu  sync.Mutex
	buf *[]byte
}

// Write gathers p; it is sent at the next Flush, or now if enough is waiting.
func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		b.buf = batchPool.Get().(*[]byte)
	}
	*b.buf = append(*b.buf, p...)
	if len(*b.buf) >= batchFlushBytes {
		return len(p), b.flushLocked()
	}
	return len(p), nil
}

// Flush sends what was gathered.
func (b *batchConn) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *batchConn) flushLocked() error {
	if b.buf == nil {
		return nil
	}
	_, err := b.Conn.Write(*b.buf)
	*b.buf = (*b.buf)[:0]
	batchPool.Put(b.buf)
	b.buf = nil
	return err
}

// batchHijacker hands gorilla's upgrader a batchConn in place of the raw
// connection.
type batchHijacker struct {
	http.ResponseWriter
	conn *batchConn
}

// Hijack implements http.Hijacker.
func (h *batchHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	raw, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: raw}
	return h.conn, brw, nil
}
