package ratelimit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ratelimit"
)

func TestParseRate(t *testing.T) {
	ok := []struct {
		in   string
		want ratelimit.Rate
	}{
		{"5/30m", ratelimit.Rate{Burst: 5, Every: 6 * time.Minute}},
		{" 10 / 10s ", ratelimit.Rate{Burst: 10, Every: time.Second}},
		{"100000/100s", ratelimit.Rate{Burst: 100000, Every: time.Millisecond}},
		{"1000/1s", ratelimit.Rate{Burst: 1000, Every: time.Millisecond}},
	}
	for _, tc := range ok {
		t.Run("OK "+tc.in, func(t *testing.T) {
			got, err := ratelimit.ParseRate(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
	bad := []struct {
		name, in string
		// want are the parts of the message a person needs.
		want []string
	}{
		{"ErrTooFast", "1000000/100s", []string{"1000000/100s", "at most 1,000 events per second", "at least N milliseconds", "16m40s for 1000000", "for example 1000000/16m40s"}},
		{"ErrJustTooFast", "1001/1s", []string{"at most 1,000 events per second", "for example 1001/1.001s"}},
		{"ErrNoCount", "lots", []string{"N/duration", "such as 10/10s"}},
		{"ErrZeroCount", "0/1s", []string{"positive count", "such as 10/10s"}},
		{"ErrBadDuration", "5/soon", []string{"Go duration such as 10s", "10/10s"}},
		{"ErrNegativeDuration", "5/-1s", []string{"Go duration", "10/10s"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ratelimit.ParseRate(tc.in)
			if err == nil {
				t.Fatalf("ParseRate(%q) accepted", tc.in)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not say %q", err, w)
				}
			}
		})
	}
}
