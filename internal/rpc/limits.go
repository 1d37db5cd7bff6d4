package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/ratelimit"
)

// Limiter is the shared rate limiter the limits interceptor needs.
type Limiter interface {
	TakeWhich(ctx context.Context, limits ...ratelimit.Limit) (time.Duration, int, error)
}

// Limits are the rates every process enforces together on calls; password
// guessing is auth's to limit (auth.Guard).
type Limits struct {
	// SendsPerRoom limits each user's messages in each room.
	SendsPerRoom ratelimit.Rate
	// CallsPerUser limits every RPC of a user, or of an address before login.
	CallsPerUser ratelimit.Rate
	// FriendRequestsPerUser limits each user's friend requests, against
	// spam: every request counts, a repeated or refused one too.
	FriendRequestsPerUser ratelimit.Rate
	// RoomsPerUser limits each user's new rooms (CreateRoom, OpenDirect):
	// a public one is told to every connected user (RoomListed).
	RoomsPerUser ratelimit.Rate
	// TrustedProxies may set X-Forwarded-For; other peers are their own
	// address.
	TrustedProxies []netip.Prefix
}

// limits is the interceptor that applies Limits; it runs after
// authentication so it knows the caller.
type limits struct {
	Limits
	rl  Limiter
	log *slog.Logger
}

func (l limits) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ip := l.clientIP(req.Peer().Addr, req.Header())
		who := "ip:" + ip
		if p := caller(ctx); p.UserID != 0 {
			who = "u:" + strconv.FormatInt(p.UserID, 10)
		}
		// A send's two limits are taken in one round trip (they share the
		// caller as hash tag); a refused send uses up neither.
		taken := []spendable{{ratelimit.Limit{Key: callsKey(who), Rate: l.CallsPerUser}, "too many requests"}}
		switch msg := req.Any().(type) {
		case *chatv1.SendMessageRequest:
			key := fmt.Sprintf("send:{%s}:%d", who, msg.GetRoomId())
			taken = append(taken, spendable{ratelimit.Limit{Key: key, Rate: l.SendsPerRoom}, "you are sending messages too fast"})
		case *chatv1.SendFriendRequestRequest:
			key := fmt.Sprintf("friend:{%s}", who)
			taken = append(taken, spendable{ratelimit.Limit{Key: key, Rate: l.FriendRequestsPerUser}, "you have sent too many friend requests"})
		case *chatv1.CreateRoomRequest, *chatv1.OpenDirectRequest:
			key := fmt.Sprintf("rooms:{%s}", who)
			taken = append(taken, spendable{ratelimit.Limit{Key: key, Rate: l.RoomsPerUser}, "you are creating rooms too fast"})
		}
		if err := l.take(ctx, taken...); err != nil {
			return nil, err
		}
		switch req.Any().(type) {
		case *chatv1.LoginRequest:
			res, err := next(auth.WithClientAddr(ctx, ip), req)
			return res, l.passwordChecked(ctx, "login failed", ip, err)
		case *chatv1.ChangePasswordRequest:
			res, err := next(ctx, req)
			return res, l.passwordChecked(ctx, "password change failed", ip, err)
		}
		return next(ctx, req)
	}
}

// passwordChecked logs a wrong or refused password at INFO, in one shape
// that fail2ban-style tools can match (msg, client_ip, outcome), and gives a
// refusal its Retry-After. The password is never logged.
func (l limits) passwordChecked(ctx context.Context, msg, ip string, err error) error {
	var limited *auth.LimitedError
	switch {
	case errors.As(err, &limited):
		l.log.InfoContext(ctx, msg, "client_ip", ip, "outcome", "limited", "retry_after", limited.Wait.Round(time.Second))
		return exhausted(limited.Msg, limited.Wait)
	case errors.Is(err, auth.ErrBadCredentials):
		l.log.InfoContext(ctx, msg, "client_ip", ip, "outcome", "bad_credentials")
	}
	return err
}

// spendable is a limit and what a caller who exceeds it is told.
type spendable struct {
	ratelimit.Limit
	what string
}

// callsKey is the counter of who's calls.
func callsKey(who string) string { return "calls:{" + who + "}" }

// take takes every limit together, or refuses with what the most exceeded
// one tells.
func (l limits) take(ctx context.Context, taken ...spendable) error {
	limits := make([]ratelimit.Limit, len(taken))
	for i, t := range taken {
		limits[i] = t.Limit
	}
	wait, which, err := l.rl.TakeWhich(ctx, limits...)
	if err != nil {
		l.limiterDown(ctx, err)
	}
	if wait > 0 && which >= 0 {
		return exhausted(taken[which].what, wait)
	}
	return nil
}

func (l limits) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler counts opening a stream as one call.
func (l limits) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		key := callsKey("u:" + strconv.FormatInt(caller(ctx).UserID, 10))
		if err := l.take(ctx, spendable{ratelimit.Limit{Key: key, Rate: l.CallsPerUser}, "too many requests"}); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// exhausted is resource_exhausted with the wait in words, in a Retry-After
// header and as a google.rpc.RetryInfo detail.
func exhausted(what string, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	err := connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%s; try again in %s", what, time.Duration(secs)*time.Second))
	err.Meta().Set("Retry-After", strconv.Itoa(secs))
	if d, derr := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); derr == nil {
		err.AddDetail(d)
	}
	return err
}

// limiterDown lets the call through: limits protect the service, and while
// Redis restarts, refusing every send would be the bigger outage.
func (l limits) limiterDown(ctx context.Context, err error) {
	l.log.WarnContext(ctx, "rate limiter unavailable; letting the call through", "err", err)
}

// clientIP is the peer's address, or the nearest untrusted address in
// X-Forwarded-For when the peer is a trusted proxy.
func (l limits) clientIP(peer string, h http.Header) string {
	host, _, err := net.SplitHostPort(peer)
	if err != nil {
		host = peer
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	// Every header line counts, as one comma-separated list (RFC 9110): a
	// proxy that adds its own line instead of appending would otherwise
	// leave the client's forged first line as the only one read.
	hops := strings.Split(strings.Join(h.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0 && l.trusted(addr); i-- {
		next, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		addr = next
	}
	return addr.Unmap().String()
}

func (l limits) trusted(a netip.Addr) bool {
	for _, p := range l.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}
