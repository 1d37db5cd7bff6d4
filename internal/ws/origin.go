package ws

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Origins says which browser pages may open /ws.
type Origins struct {
	// Allowed lists origins (scheme://host[:port]) allowed besides the
	// server's own.
	Allowed []string
	// TrustedProxies are the peers whose X-Forwarded-Proto says which
	// scheme the client used; from anyone else it is ignored.
	TrustedProxies []netip.Prefix
}

// originCheck is a Handler's Origins, ready for requests.
type originCheck struct {
	allowed map[string]bool
	proxies []netip.Prefix
}

func newOriginCheck(origins Origins) originCheck {
	o := originCheck{allowed: map[string]bool{}, proxies: origins.TrustedProxies}
	for _, a := range origins.Allowed {
		o.allowed[strings.ToLower(strings.TrimRight(a, "/"))] = true
	}
	return o
}

// allows admits non-browser clients (no Origin), a page of the server's
// own origin, and the allowlist. The scheme counts: a page served over
// plain http (which anyone on the path can rewrite) may not open a socket
// of the https site on the same host, nor the other way round.
func (o originCheck) allows(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if o.allowed[strings.ToLower(u.Scheme+"://"+u.Host)] {
		return true
	}
	return strings.EqualFold(u.Host, r.Host) && strings.EqualFold(u.Scheme, o.scheme(r))
}

// scheme is the one the client used to reach the server: https over TLS;
// behind a trusted proxy, what its X-Forwarded-Proto says (the first
// value, from the proxy nearest the client); else http.
func (o originCheck) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	fwd, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	fwd = strings.ToLower(strings.TrimSpace(fwd))
	if (fwd == "http" || fwd == "https") && o.fromProxy(r.RemoteAddr) {
		return fwd
	}
	return "http"
}

func (o originCheck) fromProxy(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	for _, p := range o.proxies {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}
