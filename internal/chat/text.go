package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The text rules: what a message, a topic and a name may contain. Messages
// keep format characters (zero-width joiners build emoji, bidi marks are
// part of writing Arabic or Hebrew next to Latin); clients isolate each
// message's direction when they show it. Names are shown inside other text
// (lists, headers, notifications), where a bidi override would reverse what
// follows it, so they refuse every control and format character.

// cleanBody trims a message body and checks its length and characters.
func cleanBody(body string) (string, error) {
	body, err := cleanText("the message", body)
	switch {
	case err != nil:
		return "", err
	case body == "":
		return "", Errorf(ErrInvalid, "the message is empty")
	case !visible(body):
		return "", Errorf(ErrInvalid, "the message has no visible characters")
	}
	if n := utf8.RuneCountInString(body); n > MaxBodyChars {
		return "", Errorf(ErrInvalid, "the message has %d characters; the limit is %d", n, MaxBodyChars)
	}
	return body, nil
}

// cleanText trims free text (a message, a topic) and refuses invalid UTF-8
// and control characters other than tab and line breaks; what is named the
// error's subject, such as "the topic".
func cleanText(what, text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", Errorf(ErrInvalid, "%s is not valid UTF-8 text", what)
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return "", Errorf(ErrInvalid, "%s contains a control character (U+%04X)", what, r)
		}
	}
	return strings.TrimSpace(text), nil
}

// cleanName trims a room name and checks that it shows something and holds
// no control or format character.
func cleanName(name string) (string, error) {
	return cleanVisibleLabel("the room name", name)
}

// cleanVisibleLabel is cleanLabel for a label that must show something.
func cleanVisibleLabel(what, s string) (string, error) {
	s, err := cleanLabel(what, s)
	if err == nil && !visible(s) {
		return "", Errorf(ErrInvalid, "%s must not be blank", what)
	}
	return s, err
}

// cleanLabel trims a short line shown inside other text (a name, a
// status) and refuses every control and format character; what is named
// the error's subject, such as "the room name".
func cleanLabel(what, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(ErrInvalid, "%s is not valid UTF-8 text", what)
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Cf) {
			return "", Errorf(ErrInvalid, "%s contains an invisible control or formatting character (U+%04X)", what, r)
		}
	}
	return strings.TrimSpace(s), nil
}

// visible reports whether s shows anything: a letter, digit, punctuation
// mark or symbol other than those that render as nothing.
func visible(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) && !blank(r) {
			return true
		}
	}
	return false
}

// blank reports letters and symbols that render as nothing: Unicode's
// default-ignorable ones (Hangul fillers such as U+3164, which pass for
// letters) and the Braille blank U+2800, a favourite for "empty" messages.
func blank(r rune) bool {
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || r == '\u2800'
}
