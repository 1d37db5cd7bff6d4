package chat

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCleanBody: whatever a client sends as a message body, the result is
// either a clear invalid-input error or a trimmed body within the limits.
func FuzzCleanBody(f *testing.F) {
	for _, seed := range []string{"hello", "  padded\n", "", " \t\n", "nul\x00", "é" + strings.Repeat("x", 3999), "<script>alert(1)</script>", "\xff\xfe", "\u200b\ufeff", "c1\u0085\u009b", "\u202eevil", "\u3164"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out, err := cleanBody(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("cleanBody(%q): error of the wrong kind: %v", body, err)
			}
			return
		}
		if out == "" || out != strings.TrimSpace(out) {
			t.Fatalf("cleanBody(%q) = %q: empty or untrimmed", body, out)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("cleanBody(%q) accepted invalid UTF-8", body)
		}
		if n := utf8.RuneCountInString(out); n > MaxBodyChars {
			t.Fatalf("cleanBody accepted %d characters", n)
		}
		for _, r := range out {
			if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
				t.Fatalf("cleanBody(%q) kept control character %U", body, r)
			}
		}
		if !visible(out) {
			t.Fatalf("cleanBody(%q) accepted a message with nothing visible", body)
		}
	})
}
