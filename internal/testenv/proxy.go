package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a backend and can cut them all, to
// make a service unreachable without stopping it.
type Proxy struct {
	// Addr is where clients connect.
	Addr    string
	backend string
	ln      net.Listener
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]struct{}
}

// NewProxy listens on a free loopback port and forwards to backend.
func NewProxy(tb testing.TB, backend string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), backend: backend, ln: ln, conns: map[net.Conn]struct{}{}}
	go p.accept()
	tb.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

// Cut closes every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) forward(client net.Conn) {
	backend, err := net.Dial("tcp", p.backend)
	if err != nil || !p.track(client, backend) {
		client.Close()
		if backend != nil {
			backend.Close()
		}
		return
	}
	go func() {
		_, _ = io.Copy(backend, client)
		backend.Close()
	}()
	_, _ = io.Copy(client, backend)
	client.Close()
}
