package files

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/parley-chat/parley/internal/chat"
)

// httpStatus is Connect's mapping of codes to HTTP statuses.
var httpStatus = map[chat.Code]int{
	chat.CodeInvalidArgument: http.StatusBadRequest, chat.CodeFailedPrecondition: http.StatusBadRequest,
	chat.CodeUnauthenticated: http.StatusUnauthorized, chat.CodePermissionDenied: http.StatusForbidden,
	chat.CodeNotFound: http.StatusNotFound, chat.CodeResourceExhausted: http.StatusTooManyRequests,
	chat.CodeUnavailable: http.StatusServiceUnavailable, chat.CodeCanceled: 499,
	chat.CodeDeadlineExceeded: http.StatusGatewayTimeout,
}

// writeError answers err as Connect does ({"code", "message"}), with the
// HTTP status of its code or status when not 0 (413 for a too large body).
func (f *Files) writeError(ctx context.Context, w http.ResponseWriter, err error, status int) {
	code, msg := chat.Report(ctx, f.log, err)
	if status == 0 {
		status = httpStatus[code]
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": string(code), "message": msg})
}

// errNoFile is the one answer for a file that is missing, not the
// caller's to see, or behind a bad or expired URL: they must look alike.
var errNoFile = chat.Errorf(chat.ErrNotFound, "no such file, or its link has expired")
