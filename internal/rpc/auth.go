package rpc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/gen/proto/chat/v1/chatv1connect"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protoconv"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// AuthHandler serves chat.v1.AuthService.
type AuthHandler struct {
	auth *auth.Service
	log  *slog.Logger
}

var _ chatv1connect.AuthServiceHandler = (*AuthHandler)(nil)

// NewAuthHandler wraps the auth service.
func NewAuthHandler(a *auth.Service, log *slog.Logger) *AuthHandler {
	return &AuthHandler{auth: a, log: log}
}

// Register creates an account.
func (h *AuthHandler) Register(ctx context.Context, req *chatv1.RegisterRequest) (*chatv1.RegisterResponse, error) {
	u, err := h.auth.Register(ctx, req.GetUsername(), req.GetEmail(), req.GetPassword())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.RegisterResponse{User: protoconv.User(u, true)}, nil
}

// Login starts a session, which records the client's User-Agent (its
// address comes from the limits interceptor).
func (h *AuthHandler) Login(ctx context.Context, req *chatv1.LoginRequest) (*chatv1.LoginResponse, error) {
	if info, ok := connect.CallInfoForHandlerContext(ctx); ok {
		ctx = auth.WithUserAgent(ctx, info.RequestHeader().Get("User-Agent"))
	}
	u, t, err := h.auth.Login(ctx, req.GetLogin(), req.GetPassword())
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.LoginResponse{
		AccessToken: t.Access, RefreshToken: handOutRefresh(ctx, t.Refresh),
		AccessExpiresAt: timestamppb.New(t.AccessExpiresAt), User: protoconv.User(u, true),
	}, nil
}

// Refresh rotates the refresh token, taken from the body or, for the web
// app, from its cookie.
func (h *AuthHandler) Refresh(ctx context.Context, req *chatv1.RefreshRequest) (*chatv1.RefreshResponse, error) {
	token, err := refreshTokenOf(ctx, req)
	if err != nil {
		return nil, err
	}
	t, err := h.auth.Refresh(ctx, token)
	if err != nil {
		if ErrorCode(err) == connect.CodeUnauthenticated {
			clearRefreshCookies(ctx) // the browser should stop presenting a dead token
		}
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.RefreshResponse{
		AccessToken: t.Access, RefreshToken: handOutRefresh(ctx, t.Refresh), AccessExpiresAt: timestamppb.New(t.AccessExpiresAt),
	}, nil
}

// Logout ends the caller's session.
func (h *AuthHandler) Logout(ctx context.Context, _ *chatv1.LogoutRequest) (*chatv1.LogoutResponse, error) {
	if err := h.auth.Logout(ctx, caller(ctx)); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	clearRefreshCookies(ctx)
	return &chatv1.LogoutResponse{}, nil
}

// ChangePassword replaces the password and ends the other sessions.
func (h *AuthHandler) ChangePassword(ctx context.Context, req *chatv1.ChangePasswordRequest) (*chatv1.ChangePasswordResponse, error) {
	if err := h.auth.ChangePassword(ctx, caller(ctx), req.GetCurrentPassword(), req.GetNewPassword()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.ChangePasswordResponse{}, nil
}

// ListSessions lists the caller's devices, newest first.
func (h *AuthHandler) ListSessions(ctx context.Context, _ *chatv1.ListSessionsRequest) (*chatv1.ListSessionsResponse, error) {
	list, err := h.auth.ListSessions(ctx, caller(ctx))
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.ListSessionsResponse{Sessions: protoconv.Sessions(list)}, nil
}

// RevokeSession ends one of the caller's sessions; ending the current one
// is a logout, which also clears the web app's refresh cookies.
func (h *AuthHandler) RevokeSession(ctx context.Context, req *chatv1.RevokeSessionRequest) (*chatv1.RevokeSessionResponse, error) {
	p := caller(ctx)
	if err := h.auth.RevokeSession(ctx, p, req.GetSessionId()); err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	if req.GetSessionId() == p.SessionID {
		clearRefreshCookies(ctx)
	}
	return &chatv1.RevokeSessionResponse{}, nil
}

// GetMe returns the caller's own user.
func (h *AuthHandler) GetMe(ctx context.Context, _ *chatv1.GetMeRequest) (*chatv1.GetMeResponse, error) {
	u, err := h.auth.User(ctx, caller(ctx).UserID)
	if err != nil {
		return nil, ToConnect(ctx, h.log, err)
	}
	return &chatv1.GetMeResponse{User: protoconv.User(u, true)}, nil
}

// RefreshCookieHeader is the request header with which the web app asks
// Login and Refresh to keep the refresh token in an HttpOnly cookie, out of
// page script's reach, instead of the response body. Clients that do not send
// it (grpcurl, bots) get the token in the body as always. Being a custom
// header, it also makes a cross-site request need a CORS preflight, which
// chatd never grants, so another site cannot make a browser refresh.
const RefreshCookieHeader = "X-Parley-Refresh-Cookie"

// RefreshCookieName names the refresh cookie. One is set per path in
// refreshCookiePaths (a cookie has one Path), each with the same token.
const RefreshCookieName = "parley_refresh"

// refreshCookiePaths are the only requests the browser sends the cookie with.
var refreshCookiePaths = []string{chatv1connect.AuthServiceRefreshProcedure, chatv1connect.AuthServiceLogoutProcedure}

var (
	errNoRefreshToken  = errors.New("refresh_token is required")
	errNoRefreshCookie = errors.New("no refresh cookie: log in again")
)

// wantsCookie says whether the caller is the web app asking for cookies.
func wantsCookie(ctx context.Context) (connect.CallInfo, bool) {
	info, ok := connect.CallInfoForHandlerContext(ctx)
	return info, ok && info.RequestHeader().Get(RefreshCookieHeader) == "1"
}

// handOutRefresh returns the refresh token for the response body, or sets it
// as cookies and returns "" when the caller asked for cookies.
func handOutRefresh(ctx context.Context, token string) string {
	info, ok := wantsCookie(ctx)
	if !ok {
		return token
	}
	setRefreshCookies(info, token, int(auth.RefreshTTL/time.Second))
	return ""
}

// clearRefreshCookies tells the web app's browser to forget its refresh token.
func clearRefreshCookies(ctx context.Context) {
	if info, ok := wantsCookie(ctx); ok {
		setRefreshCookies(info, "", -1) // net/http writes a negative MaxAge as Max-Age=0
	}
}

// setRefreshCookies sets one cookie per path, living maxAge seconds.
func setRefreshCookies(info connect.CallInfo, token string, maxAge int) {
	for _, path := range refreshCookiePaths {
		c := &http.Cookie{
			Name: RefreshCookieName, Value: token, Path: path, MaxAge: maxAge,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
		}
		info.ResponseHeader().Add("Set-Cookie", c.String())
	}
}

// refreshTokenOf is the token a Refresh presents: the body's, else the
// cookie's when the web app asked for cookies.
func refreshTokenOf(ctx context.Context, req *chatv1.RefreshRequest) (string, error) {
	if t := req.GetRefreshToken(); t != "" {
		return t, nil
	}
	info, ok := wantsCookie(ctx)
	if !ok {
		return "", connect.NewError(connect.CodeInvalidArgument, errNoRefreshToken)
	}
	c, err := (&http.Request{Header: info.RequestHeader()}).Cookie(RefreshCookieName)
	if err != nil || c.Value == "" {
		return "", connect.NewError(connect.CodeUnauthenticated, errNoRefreshCookie)
	}
	return c.Value, nil
}
