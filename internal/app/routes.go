package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/files"
	"github.com/parley-chat/parley/internal/protoconv"
	"github.com/parley-chat/parley/internal/rpc"
	"github.com/parley-chat/parley/webapp"
)

// compressMinBytes is the smallest response worth gzipping.
const compressMinBytes = 1024

var serviceNames = []string{
	chatv1connect.AuthServiceName,
	chatv1connect.RoomServiceName,
	chatv1connect.MessageServiceName,
	chatv1connect.UserServiceName,
	chatv1connect.FriendServiceName,
}

// routes is every public path: the RPCs, /ws (socket), health and the web
// app.
func routes(cfg Config, authSvc *auth.Service, chatSvc *chat.Service, fileSvc *files.Files, feeds rpc.Feeds, socket http.Handler, ready *readiness, limiter rpc.Limiter, rec rpc.Recorder, log *slog.Logger) *http.ServeMux {
	opts := []connect.HandlerOption{
		connect.WithRecover(func(ctx context.Context, spec connect.Spec, _ http.Header, p any) error {
			log.ErrorContext(ctx, "panic in handler", "procedure", spec.Procedure, "panic", p)
			return connect.NewError(connect.CodeInternal, errors.New("internal error"))
		}),
		connect.WithInterceptors(rpc.Interceptors(rpc.Chain{
			Auth: authSvc, Log: log, Metrics: rec, Limiter: limiter, Limits: cfg.Limits,
		})...),
		connect.WithReadMaxBytes(cfg.MaxRequestBytes),
		// Most replies are a few hundred bytes: compressing them costs more
		// CPU than the bytes it saves.
		connect.WithCompressMinBytes(compressMinBytes),
	}
	mux := http.NewServeMux()
	mux.Handle(chatv1connect.NewAuthServiceHandler(rpc.NewAuthHandler(authSvc, log), opts...))
	mux.Handle(chatv1connect.NewRoomServiceHandler(rpc.NewRoomHandler(chatSvc, log), opts...))
	mux.Handle(chatv1connect.NewMessageServiceHandler(rpc.NewMessageHandler(chatSvc, feeds, fileSvc.Signer(), log), opts...))
	mux.Handle(chatv1connect.NewUserServiceHandler(rpc.NewUserHandler(chatSvc, fileSvc, log), opts...))
	mux.Handle(chatv1connect.NewFriendServiceHandler(rpc.NewFriendHandler(chatSvc, log), opts...))
	mux.Handle(grpchealth.NewHandler(ready))
	reflector := grpcreflect.NewStaticReflector(append(serviceNames, grpchealth.HealthV1ServiceName)...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle("/ws", socket)
	mux.HandleFunc("POST /v1/uploads", fileSvc.Upload)
	mux.HandleFunc("GET "+files.Path+"{id}", fileSvc.Download)
	mux.HandleFunc("GET "+files.Path+"{id}/{variant}", fileSvc.Download)
	mux.HandleFunc("GET "+protoconv.AvatarPath+"{key}", fileSvc.Avatar)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", ready)
	mux.Handle("/", securityHeaders(cfg.PublicURL, webApp()))
	return mux
}

// webApp serves the embedded Vue build; unknown paths get index.html so the
// app's history-mode routes work on reload.
func webApp() http.Handler {
	dist, err := fs.Sub(webapp.Dist, "dist/app")
	if err != nil {
		panic(err) // fs.Sub only fails on an invalid path literal
	}
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(dist, "index.html"); err != nil {
			http.Error(w, "The web app is not built into this binary: run `go tool task build`.", http.StatusNotFound)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/")
		if _, err := fs.Stat(dist, name); name != "" && err != nil {
			r.URL.Path = "/"
		}
		files.ServeHTTP(w, r)
	})
}

// hstsMaxAge is how long a browser that saw the app over https keeps to
// https for it: one year, what browsers' preload lists ask for.
const hstsMaxAge = 365 * 24 * 60 * 60

// webAppPolicy is the app's Content-Security-Policy; %s is where /ws may be
// opened. Scripts come only from the app's own files: Vite's build has no
// inline script, and neither the app nor its libraries use eval. Styles need
// no 'unsafe-inline' either: Vite extracts every stylesheet to a file, and
// Vue and Element Plus set run-time styles (popper placement, dialogs, the
// scroll lock) through the CSSOM, which CSP does not restrict; the browser
// tests fail on any violation, so a library that starts writing style
// attributes is noticed. Images and fonts allow data: URLs, which Element
// Plus's stylesheet embeds. Nothing may frame the app (clickjacking).
const webAppPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self' %s; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// hostPattern is what a Host header may look like to be written into the
// policy: a name or address and a port, nothing that could end a directive.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// securityHeaders adds the browser protections to every answer of the web
// app: the CSP, no MIME sniffing, no referrer leaving the app, and HSTS when
// public (PARLEY_PUBLIC_URL) is https.
func securityHeaders(public *url.URL, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", fmt.Sprintf(webAppPolicy, socketOrigins(public, r.Host)))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers older than CSP 2
		h.Set("Referrer-Policy", "no-referrer")
		if public != nil && public.Scheme == "https" {
			h.Set("Strict-Transport-Security", fmt.Sprintf("max-age=%d; includeSubDomains", hstsMaxAge))
		}
		next.ServeHTTP(w, r)
	})
}

// socketOrigins lists the WebSocket origins of the page's own host for
// connect-src: CSP 2 browsers do not count ws: and wss: as 'self'. The public
// URL names them when set; otherwise the request's host does, with both
// schemes, since a TLS proxy in front may hide which one the page uses.
func socketOrigins(public *url.URL, host string) string {
	switch {
	case public != nil && public.Scheme == "https":
		return "wss://" + public.Host
	case public != nil:
		return "ws://" + public.Host
	case hostPattern.MatchString(host):
		return "ws://" + host + " wss://" + host
	}
	return ""
}
