package rpc

import (
	"context"
	"log/slog"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/validate"

	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/auth"
)

// publicProcedures need no access token.
var publicProcedures = map[string]bool{
	chatv1connect.AuthServiceRegisterProcedure: true,
	chatv1connect.AuthServiceLoginProcedure:    true,
	chatv1connect.AuthServiceRefreshProcedure:  true,
}

// Chain is what the interceptors need.
type Chain struct {
	Auth    *auth.Service
	Log     *slog.Logger
	Metrics Recorder // may be nil
	Limiter Limiter
	Limits  Limits
}

// Interceptors is the one place that declares the chain every RPC passes:
// metrics, logging, validation, authentication, then rate limits (which need
// to know the caller). Recovery is the handler option connect.WithRecover,
// outermost.
func Interceptors(c Chain) []connect.Interceptor {
	chain := []connect.Interceptor{
		logging{log: c.Log},
		validate.NewInterceptor(),
		authenticate{auth: c.Auth, log: c.Log},
		limits{Limits: c.Limits, rl: c.Limiter, log: c.Log},
	}
	if c.Metrics != nil {
		chain = append([]connect.Interceptor{measure{rec: c.Metrics}}, chain...)
	}
	return chain
}

type authenticate struct {
	auth *auth.Service
	log  *slog.Logger
}

func (a authenticate) check(ctx context.Context, procedure, header string) (context.Context, error) {
	if publicProcedures[procedure] {
		return ctx, nil
	}
	token, ok := auth.BearerToken(header)
	if !ok {
		return ctx, connect.NewError(connect.CodeUnauthenticated, errMissingToken)
	}
	p, err := a.auth.Authenticate(ctx, token)
	if err != nil {
		return ctx, ToConnect(ctx, a.log, err)
	}
	return withPrincipal(ctx, p), nil
}

func (a authenticate) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := a.check(ctx, req.Spec().Procedure, req.Header().Get("Authorization"))
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (a authenticate) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a authenticate) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := a.check(ctx, conn.Spec().Procedure, conn.RequestHeader().Get("Authorization"))
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// logging logs each call's outcome: client errors at INFO, server errors at
// ERROR. Tokens and passwords live in headers and bodies, which it never logs.
type logging struct{ log *slog.Logger }

func (l logging) done(ctx context.Context, procedure string, start time.Time, err error) {
	attrs := []any{"procedure", procedure, "took", time.Since(start)}
	if err == nil {
		l.log.DebugContext(ctx, "rpc", attrs...)
		return
	}
	code := ErrorCode(err)
	attrs = append(attrs, "code", code.String(), "err", err)
	if serverSide(code) {
		l.log.ErrorContext(ctx, "rpc failed", attrs...)
		return
	}
	l.log.InfoContext(ctx, "rpc refused", attrs...)
}

func serverSide(code connect.Code) bool {
	switch code {
	case connect.CodeInternal, connect.CodeUnknown, connect.CodeDataLoss, connect.CodeUnavailable:
		return true
	}
	return false
}

func (l logging) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		res, err := next(ctx, req)
		l.done(ctx, req.Spec().Procedure, start, err)
		return res, err
	}
}

func (l logging) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (l logging) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		l.done(ctx, conn.Spec().Procedure, start, err)
		return err
	}
}

// Recorder takes each finished RPC's outcome, for metrics; code is the
// Connect code's name, or "ok". internal/metrics fills it.
type Recorder interface {
	ObserveRPC(procedure, code string, took time.Duration)
}

// measure reports every call to a Recorder, refused ones included (it runs
// before validation and authentication).
type measure struct{ rec Recorder }

func (m measure) done(procedure string, start time.Time, err error) {
	code := "ok"
	if err != nil {
		code = ErrorCode(err).String()
	}
	m.rec.ObserveRPC(procedure, code, time.Since(start))
}

func (m measure) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		res, err := next(ctx, req)
		m.done(req.Spec().Procedure, start, err)
		return res, err
	}
}

func (m measure) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (m measure) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		m.done(conn.Spec().Procedure, start, err)
		return err
	}
}
