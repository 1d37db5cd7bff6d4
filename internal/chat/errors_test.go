package chat_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// TestErrorMap: every failure gets the code and the sentence every
// transport gives it; what is not for clients gets a generic sentence and
// is logged, with the caller's id, at the level its side deserves.
func TestErrorMap(t *testing.T) {
	driver := errors.New("Error 1146 (42S02): Table 'parley.messages' doesn't exist")
	for _, tc := range []struct {
		name  string
		err   error
		code  chat.Code
		msg   string // "" for a generic sentence
		level string // what Report logs, "" for nothing
	}{
		{"NotFound", chat.Errorf(chat.ErrNotFound, "room 3 not found"), chat.CodeNotFound, "room 3 not found", ""},
		{"Invalid", fmt.Errorf("frame: %w", chat.Errorf(chat.ErrInvalid, "the message is empty")), chat.CodeInvalidArgument, "frame: the message is empty", ""},
		{"Conflict", chat.Errorf(chat.ErrConflict, "taken"), chat.CodeAlreadyExists, "taken", ""},
		{"Forbidden", chat.Errorf(chat.ErrForbidden, "join first"), chat.CodePermissionDenied, "join first", ""},
		{"TooManyConns", fmt.Errorf("%w (limit 20)", chat.ErrTooManyConns), chat.CodeResourceExhausted, "too many live connections for this user (limit 20)", ""},
		{"TooSlow", chat.ErrTooSlow, chat.CodeResourceExhausted, chat.ErrTooSlow.Error(), ""},
		{"BadToken", auth.ErrBadToken, chat.CodeUnauthenticated, "invalid or expired token", ""},
		{"Replayed", auth.ErrRefreshReplayed, chat.CodeUnauthenticated, auth.ErrRefreshReplayed.Error(), ""},
		{"TooManyAttempts", &auth.LimitedError{Msg: "too many failed logins", Wait: time.Minute}, chat.CodeResourceExhausted, "too many failed logins", ""},
		{"Canceled", context.Canceled, chat.CodeCanceled, "context canceled", ""},
		{"ErrUnavailable", chat.Unavailable("Redis", errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")), chat.CodeUnavailable, "", "WARN"},
		{"ErrUnexpected", fmt.Errorf("read messages: %w", driver), chat.CodeInternal, "", "ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logged, nil))
			code, msg := chat.Report(context.Background(), log, tc.err, "conn_id", "c1")
			if code != tc.code || code != chat.ErrorCode(tc.err) {
				t.Errorf("code %q (ErrorCode %q), want %q", code, chat.ErrorCode(tc.err), tc.code)
			}
			if msg != chat.ErrorMessage(tc.err) {
				t.Errorf("Report says %q, ErrorMessage %q", msg, chat.ErrorMessage(tc.err))
			}
			switch {
			case tc.msg != "" && msg != tc.msg:
				t.Errorf("message %q, want %q", msg, tc.msg)
			case tc.msg == "" && (msg == tc.err.Error() || strings.ContainsAny(msg, "0123456789:'")):
				t.Errorf("message %q tells the client what only the log should", msg)
			}
			line := logged.String()
			switch {
			case tc.level == "" && line != "":
				t.Errorf("logged %q for an error the client is told", line)
			case tc.level != "" && (!strings.Contains(line, "level="+tc.level) || !strings.Contains(line, "conn_id=c1") || !strings.Contains(line, tc.err.Error())):
				t.Errorf("logged %q, want %s with the connection id and the error", line, tc.level)
			}
		})
	}
}

// TestUnavailableMarksOnce: an error already marked unavailable is kept as
// it is, so a failure wrapped at two layers reads once in the log.
func TestUnavailableMarksOnce(t *testing.T) {
	first := chat.Unavailable("Redis", errors.New("i/o timeout"))
	if again := chat.Unavailable("Redis (presence)", first); again != first {
		t.Fatalf("marked twice: %v", again)
	}
	if chat.Unavailable("Redis", nil) != nil {
		t.Fatal("nil became an error")
	}
}
