package search

import (
	"errors"
	"slices"
)

// MaxLookups bounds the index lookups of one query. A long CJK part keeps
// bigrams that still cover it; the match on the body stays exact.
const MaxLookups = 12

// ErrQueryTooShort is a query with less than two characters to look for.
var ErrQueryTooShort = errors.New("the search needs at least two letters, digits or CJK characters; punctuation and operators do not count")

// Part is one thing a hit must contain: a word's start, or a run of CJK
// text as a substring.
type Part struct {
	CJK   bool
	Runes []rune
}

// Lookup is one index lookup: every hit has the term (Prefix false) or a
// term starting with it.
type Lookup struct {
	Term   string
	Prefix bool
}

// Query is a parsed search: all parts must match (AND).
type Query struct {
	Parts   []Part
	Lookups []Lookup
}

// Parse normalizes a query like a body and splits it into parts. Words of
// one letter are dropped, as they are not indexed; CJK runs of one
// character stay, matched as a prefix of the bigrams.
func Parse(q string) (Query, error) {
	t := Normalize(q)
	var out Query
	chars := 0
	for _, r := range runs(t.Runes) {
		p := Part{CJK: r.class == cjk, Runes: t.Runes[r.start:r.end]}
		if !p.CJK && len(p.Runes) < minWordRunes {
			continue
		}
		chars += len(p.Runes)
		out.Parts = append(out.Parts, p)
		out.Lookups = append(out.Lookups, p.lookups()...)
	}
	if chars < 2 {
		return Query{}, ErrQueryTooShort
	}
	out.Lookups = trim(dedupe(out.Lookups))
	return out, nil
}

// lookups are the index lookups that every body containing the part
// passes.
func (p Part) lookups() []Lookup {
	if !p.CJK {
		return []Lookup{{Term: cut(string(p.Runes)), Prefix: true}}
	}
	if len(p.Runes) == 1 {
		return []Lookup{{Term: string(p.Runes), Prefix: true}}
	}
	out := make([]Lookup, 0, len(p.Runes)-1)
	for i := 0; i+1 < len(p.Runes); i++ {
		out = append(out, Lookup{Term: string(p.Runes[i : i+2])})
	}
	return out
}

func dedupe(ls []Lookup) []Lookup {
	seen := map[Lookup]bool{}
	return slices.DeleteFunc(ls, func(l Lookup) bool {
		if seen[l] {
			return true
		}
		seen[l] = true
		return false
	})
}

// trim keeps at most MaxLookups lookups, spread over the query.
func trim(ls []Lookup) []Lookup {
	if len(ls) <= MaxLookups {
		return ls
	}
	out := make([]Lookup, 0, MaxLookups)
	for i := range MaxLookups {
		out = append(out, ls[i*(len(ls)-1)/(MaxLookups-1)])
	}
	return out
}
