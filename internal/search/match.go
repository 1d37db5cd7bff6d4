package search

import (
	"cmp"
	"slices"
)

// Range is a part of the original body in code points, [Start, End).
type Range struct {
	Start, End int32
}

// Match finds every place the query matches the body, as ranges of the
// body's own code points in order, merged where they overlap. ok is false
// when some part does not occur: the index lookups only narrow the
// candidates, this decides.
func Match(body Text, q Query) (ranges []Range, ok bool) {
	starts := wordStarts(body.Runes)
	for _, p := range q.Parts {
		found := false
		for i := 0; i+len(p.Runes) <= len(body.Runes); i++ {
			if (p.CJK || starts[i]) && slices.Equal(body.Runes[i:i+len(p.Runes)], p.Runes) {
				ranges = append(ranges, Range{body.From[i], body.To[i+len(p.Runes)-1]})
				found = true
			}
		}
		if !found {
			return nil, false
		}
	}
	return merge(ranges), true
}

// wordStarts marks the runes that begin a word of an alphabetic script.
func wordStarts(rs []rune) []bool {
	out := make([]bool, len(rs))
	for _, r := range runs(rs) {
		if r.class == word {
			out[r.start] = true
		}
	}
	return out
}

func merge(rs []Range) []Range {
	slices.SortFunc(rs, func(a, b Range) int { return cmp.Compare(a.Start, b.Start) })
	var out []Range
	for _, r := range rs {
		if n := len(out); n > 0 && r.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}
