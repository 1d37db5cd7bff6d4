package chat

import (
	"errors"
	"testing"
)

func TestCheckEmoji(t *testing.T) {
	for _, tc := range []struct {
		name, emoji string
		ok          bool
	}{
		{"OK", "👍", true},
		{"OKSkinTone", "👍🏽", true},
		{"OKFamily", "👩‍👩‍👧", true},
		{"OKFlag", "🇨🇳", true},
		{"OKEmojiStyle", "❤️", true},
		{"OKKeycap", "1️⃣", true},
		{"OKRainbowFlag", "🏳️‍🌈", true},
		{"OKNewerZWJSequence", "🐦‍🔥", true},
		{"ErrTextStyle", "❤", false},
		{"ErrTextStyleCopyright", "©", false},
		{"ErrLetter", "a", false},
		{"ErrHan", "中", false},
		{"ErrTwoEmoji", "👍👍", false},
		{"ErrTrailingSpace", "😀 ", false},
		{"ErrEmpty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkEmoji(tc.emoji)
			if tc.ok && err != nil {
				t.Fatalf("checkEmoji(%q) = %v, want nil", tc.emoji, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("checkEmoji(%q) = %v, want ErrInvalid", tc.emoji, err)
			}
		})
	}
}
