package rpc

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"

	"github.com/parley-chat/parley/internal/chat"
)

// ErrorCode is the Connect code of err: a Connect error's own (the
// interceptors', the validator's), else chat.ErrorCode's, the code every
// transport gives a domain error.
func ErrorCode(err error) connect.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code()
	}
	return connectCode(chat.ErrorCode(err))
}

// connectCode is the Connect code of a chat code; both use the same names.
func connectCode(c chat.Code) connect.Code {
	var code connect.Code
	if err := code.UnmarshalText([]byte(c)); err != nil {
		return connect.CodeInternal
	}
	return code
}

// ToConnect turns a domain error into a Connect error, with the code and
// message chat.Report gives every transport; it logs the detail of what the
// client is not told with the request id.
func ToConnect(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	code, msg := chat.Report(ctx, log, err)
	if code == chat.CodeInternal {
		msg += " under this request's id" // the X-Request-Id header
	}
	if msg == err.Error() {
		// The error itself is the answer: keep it whole, so interceptors
		// still find what it wraps (a password check's wait).
		return connect.NewError(connectCode(code), err)
	}
	return connect.NewError(connectCode(code), errors.New(msg))
}

var errMissingToken = errors.New("missing access token: send Authorization: Bearer <access_token>")
