package search

// MaxTermBytes bounds a stored term (the index column's width). A longer
// word is indexed by its first MaxTermBytes bytes; a query word is cut the
// same way and the match verified on the body, so nothing is lost.
const MaxTermBytes = 64

// minWordRunes: shorter words of alphabetic scripts are not indexed ("a",
// "I"); as prefixes they would match most of the index.
const minWordRunes = 2

// Terms are the index terms of a normalized body with how often each
// occurs: each word of two or more letters or digits, and for each run of
// CJK characters every bigram of adjacent characters plus its last
// character alone (so a lone character and a query of one CJK character,
// as a prefix, still find every position).
func Terms(t Text) map[string]int {
	out := map[string]int{}
	for _, r := range runs(t.Runes) {
		if r.class == word {
			if r.end-r.start >= minWordRunes {
				out[cut(string(t.Runes[r.start:r.end]))]++
			}
			continue
		}
		for i := r.start; i+1 < r.end; i++ {
			out[string(t.Runes[i:i+2])]++
		}
		out[string(t.Runes[r.end-1])]++
	}
	return out
}

// cut shortens a term to MaxTermBytes at a rune boundary.
func cut(s string) string {
	if len(s) <= MaxTermBytes {
		return s
	}
	n := 0
	for i := range s {
		if i > MaxTermBytes {
			break
		}
		n = i
	}
	return s[:n]
}

// PrefixEnd is the smallest byte string above every string starting with
// p, for a range term >= p AND term < PrefixEnd(p) on a binary column.
// UTF-8 never contains the byte 0xFF, so the last byte can always grow.
func PrefixEnd(p string) string {
	b := []byte(p)
	b[len(b)-1]++
	return string(b)
}
