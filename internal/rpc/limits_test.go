package rpc

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	l := limits{Limits: Limits{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"OKDirect", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"OKUntrustedPeerIgnoresHeader", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"OKThroughProxy", "10.0.0.2:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"OKForgedHopsSkipped", "10.0.0.2:80", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"OKTwoProxies", "10.0.0.2:80", []string{"198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		// A proxy that adds a line of its own: the forged first line must
		// not be taken for the client.
		{"OKSecondHeaderLine", "10.0.0.2:80", []string{"6.6.6.6", "198.51.100.1"}, "198.51.100.1"},
		{"OKMappedV4", "[::ffff:203.0.113.7]:5000", nil, "203.0.113.7"},
		{"OKGarbageStops", "10.0.0.2:80", []string{"not-an-ip"}, "10.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.xff {
				h.Add("X-Forwarded-For", v)
			}
			if got := l.clientIP(tc.peer, h); got != tc.want {
				t.Fatalf("clientIP(%s, %q) = %s, want %s", tc.peer, tc.xff, got, tc.want)
			}
		})
	}
}
