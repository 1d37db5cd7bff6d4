package chat

import "errors"

// Sentinel errors of the domain. The rpc package maps them to Connect codes;
// wrap them with fmt.Errorf("%w: …") to add words a person understands.
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
