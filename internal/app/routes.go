package app

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/rpc"
	"github.com/parley-chat/parley/webapp"
)

// compressMinBytes is the smallest response worth gzipping.
const compressMinBytes = 1024

var serviceNames = []string{
	chatv1connect.AuthServiceName,
	chatv1connect.RoomServiceName,
	chatv1connect.MessageServiceName,
}

func routes(cfg Config, authSvc *auth.Service, chatSvc *chat.Service, hub *push.Hub, ready *readiness, limiter rpc.Limiter, rec rpc.Recorder, log *slog.Logger) *http.ServeMux {
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
	mux.Handle(chatv1connect.NewMessageServiceHandler(rpc.NewMessageHandler(chatSvc, hub, log), opts...))
	mux.Handle(grpchealth.NewHandler(ready))
	reflector := grpcreflect.NewStaticReflector(append(serviceNames, grpchealth.HealthV1ServiceName)...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle("/ws", push.NewWS(hub, authSvc, func(err error) string { return rpc.ErrorCode(err).String() }, push.Origins{Allowed: cfg.AllowedOrigins, TrustedProxies: cfg.Limits.TrustedProxies}, log))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", ready)
	mux.Handle("/", webApp())
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
