package chat

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCleanBody: whatever a client sends as a message body, the result is
// either a clear invalid-input error or a trimmed body within the limits.
func FuzzCleanBody(f *testing.F) {
	for _, seed := range []string{"hello", "  padded\n", "", " \t\n", "nul\x00", "é" + strings.Repeat("x", 3999), "<script>alert(1)</script>", "\xff\xfe"} {
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
			if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
				t.Fatalf("cleanBody(%q) kept control character %U", body, r)
			}
		}
	})
}
