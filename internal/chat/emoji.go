package chat

import (
	"strings"

	"github.com/forPelevin/gomoji"
	"github.com/rivo/uniseg"
)

// MaxReactionEmoji bounds the distinct emoji of one message's reactions,
// so a message's reaction bar stays a bar.
const MaxReactionEmoji = 20

const (
	zwj          = "\u200d"
	emojiStyle   = "\ufe0f" // VS16: show the character as an emoji
	keycapSuffix = "\u20e3"
)

// cleanEmoji accepts exactly one emoji shown as an emoji: one grapheme
// cluster (a flag, a skin tone or a ZWJ family is one) that Unicode's emoji
// list knows, in emoji style, which "©" or "❤" without U+FE0F are not. It
// returns the emoji's usual spelling: a U+FE0F after a character that is an
// emoji anyway ("👍" + U+FE0F, as some pickers write it) is dropped, so both
// spellings are one reaction.
func cleanEmoji(s string) (string, error) {
	if uniseg.GraphemeClusterCount(s) != 1 {
		return "", Errorf(ErrInvalid, "a reaction is exactly one emoji")
	}
	if knownEmoji(s) && emojiStyled(s) {
		return s, nil
	}
	if bare := strings.ReplaceAll(s, emojiStyle, ""); bare != s && knownEmoji(bare) && uniseg.StringWidth(bare) == 2 {
		return bare, nil
	}
	return "", Errorf(ErrInvalid, "%q is not an emoji", s)
}

// knownEmoji tells an emoji of the library's list (Emoji 15.0), or a ZWJ
// sequence of such emoji, which is how newer ones (🐦‍🔥) are built.
func knownEmoji(s string) bool {
	if _, err := gomoji.GetInfo(s); err == nil {
		return true
	}
	parts := strings.Split(s, zwj)
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if _, err := gomoji.GetInfo(p); err != nil {
			return false
		}
	}
	return true
}

// emojiStyled tells an emoji shown as a picture: two columns wide (emoji
// presentation), or asking for emoji style, or a keycap.
func emojiStyled(s string) bool {
	return uniseg.StringWidth(s) == 2 || strings.Contains(s, emojiStyle) || strings.HasSuffix(s, keycapSuffix)
}
