package chat

import (
	"errors"
	"fmt"
)

// Sentinel errors of the domain. The rpc package maps them to Connect codes;
// Errorf attaches the sentence a person reads.
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
