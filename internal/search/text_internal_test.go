package search

import (
	"slices"
	"testing"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
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

// TestNormalizeFolds: the runes are the body NFKC-normalized and
// case-folded as a whole, whichever segments fold to themselves.
func TestNormalizeFolds(t *testing.T) {
	for _, s := range []string{
		"我们说你好吧 部署 deploy", "Straße ǰ ﬀ ΣΑΣ Ǆ", "ＡＢＣ ｶﾀｶﾅ ①", "東京タワーへ", "e\u0301 Å",
	} {
		want := []rune(cases.Fold().String(norm.NFKC.String(s)))
		if got := Normalize(s).Runes; !slices.Equal(got, want) {
			t.Errorf("Normalize(%q) = %q, want %q", s, string(got), string(want))
		}
	}
}

// BenchmarkNormalize is a chatbench body (ASCII, both ways) and a Chinese
// sentence.
func BenchmarkNormalize(b *testing.B) {
	const ascii = "t1764752400000000000 977a85ab s12 n345 xxxxxxxxxxxxxxxxxxxxxxxxxx"
	for _, c := range []struct {
		name, body string
		f          func(string) Text
	}{
		{"ascii", ascii, normalizeASCII},
		{"ascii-general", ascii, normalize},
		{"chinese", "我们明天下午三点开会，讨论数据库迁移和服务器部署的计划。", Normalize},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f(c.body)
			}
		})
	}
}
