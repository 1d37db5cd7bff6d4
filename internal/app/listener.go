package app

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// connCap caps the connections one client address may hold open at once.
// Without it, one host opening thousands of slow connections uses up the
// process's file descriptors and nobody else gets in; with it, a connection
// over the cap is closed as soon as it is accepted, and the others' calls
// go on.
//
// Addresses of trusted proxies are exempt: every client behind a proxy
// shares its address, so a cap there would be a cap on all users together.
// The proxy limits its own clients (nginx: limit_conn), and each request it
// forwards is still bound by the read, write and idle timeouts.
type connCap struct {
	max     int
	trusted []netip.Prefix
	refused atomic.Int64

	mu   sync.Mutex
	open map[netip.Addr]int
}

func newConnCap(max int, trusted []netip.Prefix) *connCap {
	return &connCap{max: max, trusted: trusted, open: map[netip.Addr]int{}}
}

// Refused counts connections closed for being over the cap, since start.
func (l *connCap) Refused() int64 { return l.refused.Load() }

// listener applies the cap to ln's connections.
func (l *connCap) listener(ln net.Listener) net.Listener { return capListener{Listener: ln, limit: l} }

// clientAddr is the connection's remote address and whether the cap counts
// it: not for trusted proxies, nor on a listener that is not TCP.
func (l *connCap) clientAddr(c net.Conn) (netip.Addr, bool) {
	tcp, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	addr := tcp.AddrPort().Addr().Unmap()
	for _, p := range l.trusted {
		if p.Contains(addr) {
			return addr, false
		}
	}
	return addr, true
}

// take counts one more connection of addr, unless it is at the cap.
func (l *connCap) take(addr netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr] >= l.max {
		return false
	}
	l.open[addr]++
	return true
}

func (l *connCap) release(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// capListener is a listener under a connCap.
type capListener struct {
	net.Listener
	limit *connCap
}

// Accept returns the next connection whose address is under the cap and
// closes those that are not.
func (l capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, counted := l.limit.clientAddr(c)
		switch {
		case !counted:
			return c, nil
		case l.limit.take(addr):
			return &cappedConn{Conn: c, release: func() { l.limit.release(addr) }}, nil
		}
		l.limit.refused.Add(1)
		_ = c.Close()
	}
}

// cappedConn gives its address's slot back when closed, once, however
// often net/http or a WebSocket closes it.
type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// closeWriter is what net/http uses to half-close a connection after a
// final response, so that the client reads it before the connection goes.
type closeWriter interface{ CloseWrite() error }

// CloseWrite half-closes the underlying connection when it can.
func (c *cappedConn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}
