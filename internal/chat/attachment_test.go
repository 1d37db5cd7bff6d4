package chat_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

func TestCheckAttachable(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	found := map[string]chat.Attachment{
		"fresh":    {ID: "fresh", UploaderID: 1, CreatedAt: now.Add(-time.Hour)},
		"day-old":  {ID: "day-old", UploaderID: 1, CreatedAt: now.Add(-chat.AttachWindow - time.Second)},
		"attached": {ID: "attached", UploaderID: 1, CreatedAt: now, Attached: true},
		"bobs":     {ID: "bobs", UploaderID: 2, CreatedAt: now},
	}
	for _, tc := range []struct {
		name, id, says string
	}{
		{"OK", "fresh", ""},
		{"ErrMissing", "gone", "not one of yours"},
		{"ErrAnotherUsers", "bobs", "not one of yours"},
		{"ErrAttached", "attached", "already attached"},
		{"ErrTooOld", "day-old", "older than 24 hours"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := chat.CheckAttachable([]string{"fresh", tc.id}, found, 1, now)
			if tc.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, chat.ErrPrecondition) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want failed precondition saying %q", err, tc.says)
			}
		})
	}
}
