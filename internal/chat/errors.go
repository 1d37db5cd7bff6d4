package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Sentinel errors of the domain: the kinds every failure is told to clients
// as (see ErrorCode). Errorf attaches the sentence a person reads.
var (
	// ErrNotFound hides what does not exist and what the caller may not see.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is input that breaks a business rule.
	ErrInvalid = errors.New("invalid")
	// ErrConflict is a duplicate: a taken name, a reused id with other content.
	ErrConflict = errors.New("already exists")
	// ErrForbidden is an action on something the caller can see but may not do.
	ErrForbidden = errors.New("permission denied")
	// ErrUnavailable means a backing service is down; nothing was written.
	ErrUnavailable = errors.New("unavailable")
	// ErrUnauthenticated is a caller who is not, or no longer, logged in.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrExhausted is a limit reached: too many attempts, connections or
	// events waiting.
	ErrExhausted = errors.New("resource exhausted")
	// ErrPrecondition is an action the thing's state no longer allows, such
	// as editing a deleted message.
	ErrPrecondition = errors.New("failed precondition")
)

// Limits a live connection can hit, told to its client as the reason it
// was refused or closed.
var (
	// ErrTooManyConns refuses a connection over the per-user cap.
	ErrTooManyConns error = &Error{Kind: ErrExhausted, Msg: "too many live connections for this user"}
	// ErrTooSlow closes a connection whose client did not read its events
	// as fast as they came.
	ErrTooSlow error = &Error{Kind: ErrExhausted, Msg: "connection too slow: events were not read fast enough; reconnect and resume"}
)

// Error is a domain error in words for people: errors.Is matches its Kind,
// and its text is only the sentence.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is see the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an Error of the given kind.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Unavailable marks a failure of a backing service, named for the log
// (e.g. "Redis"), so every adapter of it is told to clients the same way.
// An error already marked is returned as it is.
func Unavailable(service string, err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return Errorf(ErrUnavailable, "%s is unavailable: %v", service, err)
}

// Code is how a failure is told to clients: Connect's code names, which
// WebSocket error frames carry too.
type Code string

// The codes the domain's kinds map to.
const (
	CodeCanceled           Code = "canceled"
	CodeInvalidArgument    Code = "invalid_argument"
	CodeDeadlineExceeded   Code = "deadline_exceeded"
	CodeNotFound           Code = "not_found"
	CodeAlreadyExists      Code = "already_exists"
	CodePermissionDenied   Code = "permission_denied"
	CodeResourceExhausted  Code = "resource_exhausted"
	CodeFailedPrecondition Code = "failed_precondition"
	CodeInternal           Code = "internal"
	CodeUnavailable        Code = "unavailable"
	CodeUnauthenticated    Code = "unauthenticated"
)

// codes maps each kind to its code; the first match wins.
var codes = []struct {
	kind error
	code Code
}{
	{ErrNotFound, CodeNotFound},
	{ErrInvalid, CodeInvalidArgument},
	{ErrConflict, CodeAlreadyExists},
	{ErrForbidden, CodePermissionDenied},
	{ErrUnavailable, CodeUnavailable},
	{ErrUnauthenticated, CodeUnauthenticated},
	{ErrExhausted, CodeResourceExhausted},
	{ErrPrecondition, CodeFailedPrecondition},
	{context.Canceled, CodeCanceled},
	{context.DeadlineExceeded, CodeDeadlineExceeded},
}

// ErrorCode is the code every transport (the RPCs, the Subscribe stream,
// WebSocket error frames) gives err; CodeInternal for anything unexpected.
func ErrorCode(err error) Code {
	for _, c := range codes {
		if errors.Is(err, c.kind) {
			return c.code
		}
	}
	return CodeInternal
}

// The sentences of failures whose detail is not for clients.
const (
	internalMessage    = "internal error; the server log has the details"
	unavailableMessage = "the service is temporarily unavailable; please try again shortly"
)

// ErrorMessage is the sentence a client reads for err. Expected errors keep
// theirs, which the domain words for people; an unexpected one or a backing
// service's failure gets a generic sentence, since its text may name
// drivers, addresses or queries.
func ErrorMessage(err error) string {
	switch ErrorCode(err) {
	case CodeInternal:
		return internalMessage
	case CodeUnavailable:
		return unavailableMessage
	}
	return err.Error()
}

// Report is ErrorCode and ErrorMessage for a transport about to answer err,
// and logs what the client is not told: an unexpected error at ERROR, a
// backing service's failure at WARN, each with attrs (the connection's id;
// a request's id comes with ctx).
func Report(ctx context.Context, log *slog.Logger, err error, attrs ...any) (Code, string) {
	code := ErrorCode(err)
	switch code {
	case CodeInternal:
		log.ErrorContext(ctx, "internal error", append(attrs, "err", err)...)
	case CodeUnavailable:
		log.WarnContext(ctx, "backing service unavailable", append(attrs, "err", err)...)
	}
	return code, ErrorMessage(err)
}
