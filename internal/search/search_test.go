package search_test

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/search"
)

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"English", "Deploy the deployment, a I ok", []string{"deploy", "deployment", "ok", "the"}},
		{"Chinese", "我们说你好吧", []string{"们说", "你好", "吧", "好吧", "我们", "说你"}},
		{"ChineseLone", "好 的", []string{"好", "的"}},
		{"Japanese", "東京タワーへ", []string{"へ", "ワー", "ーへ", "タワ", "京タ", "東京"}},
		{"Korean", "안녕 하세요", []string{"녕", "세요", "안녕", "요", "하세"}},
		{"Mixed", "Go语言2026", []string{"2026", "go", "言", "语言"}},
		{"FullWidth", "ＤＥＰＬＯＹ ｶﾀｶﾅ", []string{"deploy", "カタ", "タカ", "カナ", "ナ"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Sorted(maps.Keys(search.Terms(search.Normalize(tc.body))))
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Fatalf("terms of %q = %q, want %q", tc.body, got, want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		name, query, body string
		want              []search.Range // nil: no match
	}{
		{"ChineseInside", "你好", "我们说你好吧", []search.Range{{3, 5}}},
		{"ChineseNotAdjacent", "你好", "你说好", nil},
		{"ChineseAllBigramsNotSubstring", "你好你", "你好 好你", nil},
		{"Prefix", "deploy", "We deployed the Deployment", []search.Range{{3, 9}, {16, 22}}},
		{"NotInsideAWord", "ploy", "deployment", nil},
		{"JapaneseKanaKanji", "タワー", "東京タワーへ行く", []search.Range{{2, 5}}},
		{"Korean", "하세요", "안녕하세요!", []search.Range{{2, 5}}},
		{"MixedAND", "deploy 失败", "deploy 又失败了", []search.Range{{0, 6}, {8, 10}}},
		{"MixedMissingPart", "deploy 失败", "deploy 成功", nil},
		{"FullWidthBody", "deploy", "ＤＥＰＬＯＹ now", []search.Range{{0, 6}}},
		{"FullWidthQuery", "ＤＥＰ", "deploy", []search.Range{{0, 3}}},
		{"LigatureMapsBack", "fine", "ﬁne day", []search.Range{{0, 3}}},
		{"OneCJKCharacterPart", "你 ok", "ok 说你", []search.Range{{0, 2}, {4, 5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := search.Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := search.Match(search.Normalize(tc.body), q)
			if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
				t.Fatalf("Match(%q, %q) = %v, %v; want %v", tc.body, tc.query, got, ok, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, q := range []string{"a", "你", "  \"-+*  ", "a b", "a 你", "!!"} {
		t.Run("ErrTooShort/"+q, func(t *testing.T) {
			if _, err := search.Parse(q); !errors.Is(err, search.ErrQueryTooShort) {
				t.Fatalf("Parse(%q) = %v, want ErrQueryTooShort", q, err)
			}
		})
	}
	t.Run("LongCJKIsBounded", func(t *testing.T) {
		q, err := search.Parse("我们今天在会议室里讨论了下一个版本的发布计划和测试安排")
		if err != nil || len(q.Lookups) != search.MaxLookups {
			t.Fatalf("lookups %d, %v; want %d", len(q.Lookups), err, search.MaxLookups)
		}
	})
	t.Run("Lookups", func(t *testing.T) {
		q, err := search.Parse("\"Deploy\" 你好你好 a")
		want := []search.Lookup{{Term: "deploy", Prefix: true}, {Term: "你好"}, {Term: "好你"}}
		if err != nil || !slices.Equal(q.Lookups, want) {
			t.Fatalf("lookups %v, %v; want %v", q.Lookups, err, want)
		}
	})
}

func TestPrefixEnd(t *testing.T) {
	if got := search.PrefixEnd("deploy"); got != "deplo"+"z" {
		t.Fatalf("PrefixEnd(deploy) = %q", got)
	}
}
