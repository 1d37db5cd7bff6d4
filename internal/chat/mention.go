package chat

import (
	"regexp"
	"strings"
)

// Mentions are who a message calls: members by id, in the order written,
// and everyone (@room).
type Mentions struct {
	UserIDs []int64
	Room    bool
}

var (
	// fencedCode and inlineCode are Markdown's code blocks and spans, where
	// an @ is code, not a mention.
	fencedCode = regexp.MustCompile("(?s)```.*?(```|$)")
	inlineCode = regexp.MustCompile("`[^`\n]*`")
	// mentionRe is @ and a username (see auth's rules) at the start or after
	// a character that cannot end an email address or a word.
	mentionRe = regexp.MustCompile(`(?:^|[^\w@.])@([A-Za-z0-9_]{3,32})\b`)
)

// roomMention is the name that mentions everyone in the room.
const roomMention = "room"

// mentionNames returns the usernames a body mentions outside code, folded
// to lower case, each once in the order written, and whether it mentions
// @room.
func mentionNames(body string) (names []string, room bool) {
	if !strings.Contains(body, "@") {
		return nil, false
	}
	text := inlineCode.ReplaceAllString(fencedCode.ReplaceAllString(body, " "), " ")
	seen := map[string]bool{}
	for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
		name := strings.ToLower(m[1])
		switch {
		case name == roomMention:
			room = true
		case !seen[name]:
			seen[name] = true
			names = append(names, name)
		}
	}
	return names, room
}
