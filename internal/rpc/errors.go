package rpc

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// codes maps domain errors to the Connect code a client sees.
var codes = []struct {
	err  error
	code connect.Code
}{
	{chat.ErrNotFound, connect.CodeNotFound},
	{chat.ErrInvalid, connect.CodeInvalidArgument},
	{chat.ErrConflict, connect.CodeAlreadyExists},
	{chat.ErrForbidden, connect.CodePermissionDenied},
	{chat.ErrUnavailable, connect.CodeUnavailable},
	{auth.ErrBadCredentials, connect.CodeUnauthenticated},
	{auth.ErrBadToken, connect.CodeUnauthenticated},
	{auth.ErrTooManyAttempts, connect.CodeResourceExhausted},
	{context.Canceled, connect.CodeCanceled},
	{context.DeadlineExceeded, connect.CodeDeadlineExceeded},
}

// ErrorCode is the Connect code for a domain error, CodeInternal for
// anything unexpected.
func ErrorCode(err error) connect.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code()
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return connect.CodeInternal
}

// ToConnect turns a domain error into a Connect error. Expected errors keep
// their message, which the domain words for people; anything else becomes a
// generic internal error and its detail goes to the log with the request id.
func ToConnect(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	code := ErrorCode(err)
	switch code {
	case connect.CodeInternal:
		log.ErrorContext(ctx, "internal error", "err", err)
		return connect.NewError(code, errors.New("internal error; the server log has the details under this request's id"))
	case connect.CodeUnavailable:
		log.WarnContext(ctx, "backing service unavailable", "err", err)
		return connect.NewError(code, errors.New("the service is temporarily unavailable; nothing was saved, please retry"))
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	return connect.NewError(code, err)
}

var errMissingToken = errors.New("missing access token: send Authorization: Bearer <access_token>")
