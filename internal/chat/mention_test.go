package chat

import (
	"reflect"
	"testing"
)

func TestMentionNames(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
		room       bool
	}{
		{"OK", "hi @alice and @Bob_2", []string{"alice", "bob_2"}, false},
		{"OKCaseFoldedOnce", "@Alice @alice @ALICE", []string{"alice"}, false},
		{"OKRoom", "@room please look", nil, true},
		{"OKRoomAnyCase", "@Room", nil, true},
		{"OKPunctuation", "(@alice), @bob: @carol.", []string{"alice", "bob", "carol"}, false},
		{"OKChinese", "你好@alice，看一下", []string{"alice"}, false},
		{"NoInlineCode", "run `@alice` then", nil, false},
		{"NoCodeBlock", "```\n@alice\n@room\n```\n@bob", []string{"bob"}, false},
		{"NoEmail", "mail alice@example.com", nil, false},
		{"NoTooShort", "@al", nil, false},
		{"NoAtAt", "@@alice", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, room := mentionNames(tc.body)
			if !reflect.DeepEqual(names, tc.want) || room != tc.room {
				t.Fatalf("mentionNames(%q) = %q, %v; want %q, %v", tc.body, names, room, tc.want, tc.room)
			}
		})
	}
}
