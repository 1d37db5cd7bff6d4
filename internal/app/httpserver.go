package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// HTTP/2 limits of the public listener (cleartext HTTP/2 is how gRPC
// clients connect).
const (
	// h2MaxStreams bounds the requests one HTTP/2 connection may have in
	// flight; with the per-address connection cap it bounds what one
	// address can make the server hold.
	h2MaxStreams = 100
	// h2PingAfter is how long a connection may stay silent before it is
	// pinged, and h2PingTimeout how long the ping may go unanswered before
	// the connection is closed: a vanished client's streams do not linger.
	h2PingAfter   = 30 * time.Second
	h2PingTimeout = 15 * time.Second
)

// newHTTPServer is the public server, with every way a client can hold a
// connection bounded: sending headers and body (ReadTimeout), reading a
// reply (WriteTimeout), idling between requests (IdleTimeout), and on
// HTTP/2 accepting no data at all (WriteTimeout again) or not answering
// pings. http.Server's own ReadTimeout and WriteTimeout are not set: they
// would also end Subscribe streams and WebSockets, which live for hours, so
// requestDeadlines bounds each request instead.
func newHTTPServer(cfg Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           requestDeadlines(h, cfg.ReadTimeout, cfg.WriteTimeout, streamingProcedures(serviceNames)),
		ReadHeaderTimeout: cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		Protocols:         protocols(),
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: h2MaxStreams,
			SendPingTimeout:      h2PingAfter,
			PingTimeout:          h2PingTimeout,
			WriteByteTimeout:     cfg.WriteTimeout,
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// protocols serves HTTP/1.1 and cleartext HTTP/2 on one port, so gRPC works
// without TLS next to browsers.
func protocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// requestDeadlines gives each request read seconds to send its body, lifted
// once the body has been read to its end (a server stream's request is
// read at its start; the stream then lives on), and on HTTP/1.1 write
// seconds to take its reply. Streaming replies get no write deadline there:
// they last as long as the client listens. HTTP/2 bounds writes per
// connection instead (WriteByteTimeout), and a WebSocket clears the
// deadlines when it takes over its connection, then keeps its own.
func requestDeadlines(next http.Handler, read, write time.Duration, streaming map[string]bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody {
			_ = rc.SetReadDeadline(time.Now().Add(read))
			r.Body = &bodyDeadline{ReadCloser: r.Body, rc: rc, header: w.Header(), http1: r.ProtoMajor == 1, after: read}
		}
		if r.ProtoMajor == 1 {
			// Always set: on a kept-alive connection the last request's
			// deadline would otherwise still apply.
			var deadline time.Time
			if !streaming[r.URL.Path] {
				deadline = time.Now().Add(write)
			}
			_ = rc.SetWriteDeadline(deadline)
		}
		next.ServeHTTP(w, r)
	})
}

// bodyDeadline is a request body read under a deadline. Read to its end,
// it lifts the deadline, so that net/http's watch for the client hanging
// up (which reads on after the body) does not hit it and cancel a
// long-lived request. Late, it says so in words (the network error names
// the server's address) and has an HTTP/1.1 connection closed after the
// reply: net/http would otherwise read the rest of the late body as the
// next request.
type bodyDeadline struct {
	io.ReadCloser
	rc     *http.ResponseController
	header http.Header // the reply's
	http1  bool
	after  time.Duration
}

func (b *bodyDeadline) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		if b.http1 {
			b.header.Set("Connection", "close")
		}
		err = lateBody{after: b.after}
	}
	return n, err
}

// lateBody is a request body that did not arrive in time; Connect answers
// it as deadline_exceeded.
type lateBody struct{ after time.Duration }

func (e lateBody) Error() string {
	return fmt.Sprintf("the request body did not arrive within %s", e.after)
}

func (lateBody) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// streamingProcedures are the paths of the services' streaming methods.
func streamingProcedures(services []string) map[string]bool {
	out := map[string]bool{}
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			continue
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for i := range methods.Len() {
			if m := methods.Get(i); m.IsStreamingServer() || m.IsStreamingClient() {
				out["/"+name+"/"+string(m.Name())] = true
			}
		}
	}
	return out
}
