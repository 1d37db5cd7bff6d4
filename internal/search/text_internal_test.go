package search

import (
	"slices"
	"testing"
)

// TestNormalizeASCII: the ASCII path gives what the general one gives, for
// every ASCII character and a sentence.
func TestNormalizeASCII(t *testing.T) {
	all := make([]byte, 128)
	for i := range all {
		all[i] = byte(i)
	}
	for _, s := range []string{string(all), "Deploy the DEPLOYMENT, Ok?\t#42 @Ann_B", ""} {
		got, want := normalizeASCII(s), normalize(s)
		if !slices.Equal(got.Runes, want.Runes) || !slices.Equal(got.From, want.From) || !slices.Equal(got.To, want.To) {
			t.Errorf("normalizeASCII(%q) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkNormalize is a chatbench body, the ASCII way and the general.
func BenchmarkNormalize(b *testing.B) {
	const body = "t1764752400000000000 977a85ab s12 n345 xxxxxxxxxxxxxxxxxxxxxxxxxx"
	for name, f := range map[string]func(string) Text{"ascii": normalizeASCII, "general": normalize} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f(body)
			}
		})
	}
}
