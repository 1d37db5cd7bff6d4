package chat

import (
	"errors"
	"testing"
)

func TestCleanEmoji(t *testing.T) {
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
			got, err := cleanEmoji(tc.emoji)
			if tc.ok && (err != nil || got != tc.emoji) {
				t.Fatalf("cleanEmoji(%q) = %q, %v; want it back", tc.emoji, got, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("cleanEmoji(%q) = %v, want ErrInvalid", tc.emoji, err)
			}
		})
	}
}

// TestCleanEmojiSpelling: a U+FE0F after an emoji that needs none is
// dropped, so 👍 is one reaction however a picker spells it; one that is
// needed stays.
func TestCleanEmojiSpelling(t *testing.T) {
	for in, want := range map[string]string{"👍\ufe0f": "👍", "❤\ufe0f": "❤\ufe0f", "👍🏽": "👍🏽"} {
		if got, err := cleanEmoji(in); err != nil || got != want {
			t.Errorf("cleanEmoji(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
