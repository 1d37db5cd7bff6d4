// Package search turns text into the terms Parley's own search index keeps
// and a query into the terms to look up, and finds where a query matches a
// body. It is the same for every database: the index is a plain table of
// terms, written by the store, so no server-side parser or tuning is needed.
package search

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Text is a body normalized for matching: NFKC (which also folds
// full-width Latin and half-width kana to their usual forms) and case
// folding. Each normalized rune remembers the code points of the original
// it came from, so matches are reported in the body as stored.
type Text struct {
	Runes []rune
	// From and To are, for each rune, the original code point range
	// [From, To) it was normalized from.
	From, To []int32
}

// Normalize folds s for matching and keeps the way back to its code points.
func Normalize(s string) Text {
	if isASCII(s) {
		return normalizeASCII(s)
	}
	return normalize(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalizeASCII is normalize for ASCII, which NFKC leaves as it is and
// case folding only lowers. Most messages are ASCII, and every message is
// normalized in its send's commit: the general way, a transformer per
// segment, took a twentieth of chatd's CPU in the one-room benchmark.
func normalizeASCII(s string) Text {
	t := Text{Runes: make([]rune, len(s)), From: make([]int32, len(s)), To: make([]int32, len(s))}
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t.Runes[i], t.From[i], t.To[i] = rune(c), int32(i), int32(i+1)
	}
	return t
}

func normalize(s string) Text {
	t := Text{Runes: make([]rune, 0, len(s)), From: make([]int32, 0, len(s)), To: make([]int32, 0, len(s))}
	fold := cases.Fold()
	var it norm.Iter
	it.InitString(norm.NFKC, s)
	cp := int32(0)
	for !it.Done() {
		start := it.Pos()
		seg := it.Next()
		n := int32(utf8.RuneCountInString(s[start:it.Pos()]))
		// Most segments (Han, kana, lower case, digits) fold to
		// themselves, which Span says without copying them.
		fold.Reset()
		if k, err := fold.Span(seg, true); k != len(seg) || err != nil {
			seg = fold.Bytes(seg)
		}
		for len(seg) > 0 {
			r, size := utf8.DecodeRune(seg)
			seg = seg[size:]
			t.Runes = append(t.Runes, r)
			t.From = append(t.From, cp)
			t.To = append(t.To, cp+n)
		}
		cp += n
	}
	return t
}

// class is how a rune takes part in terms.
type class uint8

const (
	other class = iota // spaces, punctuation, symbols, emoji: separators
	word               // letters, digits and marks of alphabetic scripts
	cjk                // Han, kana and Hangul: written without spaces
)

// prolongedSound (ー) is Common script yet written inside katakana words.
const prolongedSound = '\u30fc'

func classOf(r rune) class {
	switch {
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || r == prolongedSound:
		return cjk
	case unicode.In(r, unicode.Letter, unicode.Digit, unicode.Mark):
		return word
	}
	return other
}

// run is a stretch of runes of one class, [start, end) in Text.Runes.
type run struct {
	class      class
	start, end int
}

// runs splits the text into its word and CJK runs, dropping separators.
func runs(rs []rune) []run {
	var out []run
	for i := 0; i < len(rs); {
		c := classOf(rs[i])
		j := i + 1
		for j < len(rs) && classOf(rs[j]) == c {
			j++
		}
		if c != other {
			out = append(out, run{c, i, j})
		}
		i = j
	}
	return out
}
