package chat

import (
	"errors"
	"testing"
)

func TestCleanBody(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"OK", "  hello\n", "hello", true},
		{"OKEmojiWithJoiner", "👩\u200d💻", "👩\u200d💻", true},
		{"OKBidiMarksKept", "שלום \u202eabc\u202c", "שלום \u202eabc\u202c", true},
		{"OKChinese", "你好", "你好", true},
		{"ErrEmpty", " \t\n", "", false},
		{"ErrZeroWidthOnly", "\u200b\u200c\u200d\u2060\ufeff", "", false},
		{"ErrHangulFiller", "\u3164\u3164", "", false},
		{"ErrBrailleBlank", "\u2800", "", false},
		{"ErrC0", "nul\x00byte", "", false},
		{"ErrC1NextLine", "a\u0085b", "", false},
		{"ErrC1CSI", "a\u009b31mb", "", false},
		{"ErrInvalidUTF8", "\xff", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cleanBody(tc.in)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("cleanBody(%q) = %q, %v", tc.in, got, err)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"OK", " design team ", true},
		{"OKChinese", "设计", true},
		{"ErrBidiOverride", "evil\u202etxt.exe", false},
		{"ErrIsolate", "\u2066name\u2069", false},
		{"ErrZeroWidth", "a\u200bb", false},
		{"ErrC1", "a\u0085b", false},
		{"ErrTab", "a\tb", false},
		{"ErrBlank", "   ", false},
		{"ErrInvisible", "\u3164", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cleanName(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("cleanName(%q): %v", tc.in, err)
			}
		})
	}
}
