package chat

import (
	"fmt"
	"strings"
	"time"
)

// AttachmentKind says how clients show an attachment.
type AttachmentKind int8

// The kinds; the numbers are stored (uploads.kind).
const (
	FileAttachment  AttachmentKind = 1
	ImageAttachment AttachmentKind = 2
	VoiceAttachment AttachmentKind = 3
)

// AttachWindow is how long an upload waits to be attached before it may no
// longer be, and the sweeper deletes it.
const AttachWindow = 24 * time.Hour

// Attachment is an upload: waiting for a message, or attached to one.
type Attachment struct {
	ID          string
	Kind        AttachmentKind
	Filename    string
	ContentType string
	Size        int64
	Width       int
	Height      int
	DurationMS  int64
	Waveform    []byte
	// HasThumb says a thumbnail blob exists (images).
	HasThumb   bool
	UploaderID int64
	CreatedAt  time.Time
	// Attached says a message holds it already.
	Attached bool
}

// CheckAttachable is the rule for SendMessage's attachment_ids: every one
// found (found holds those that exist), the sender's own, not attached
// before, uploaded within AttachWindow of now. The store applies it to the
// rows it locked, so two messages can never take one upload.
func CheckAttachable(ids []string, found map[string]Attachment, sender int64, now time.Time) error {
	for _, id := range ids {
		a, ok := found[id]
		switch {
		case !ok || a.UploaderID != sender:
			return Errorf(ErrPrecondition, "upload %s is not one of yours: upload the file first (POST /v1/uploads)", id)
		case a.Attached:
			return Errorf(ErrPrecondition, "upload %s is already attached to a message; upload it again to send it twice", id)
		case now.Sub(a.CreatedAt) > AttachWindow:
			return Errorf(ErrPrecondition, "upload %s is older than %s and can no longer be attached; upload it again", id, fmtHours(AttachWindow))
		}
	}
	return nil
}

func fmtHours(d time.Duration) string { return fmt.Sprintf("%d hours", int(d.Hours())) }

// onlyAttachments is a message of files and no text, which may have an
// empty body.
func onlyAttachments(m NewMessage) bool {
	return len(m.AttachmentIDs) > 0 && strings.TrimSpace(m.Body) == ""
}
