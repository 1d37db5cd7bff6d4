package files

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSignedURLExpires: a download URL is good until its expiry and not a
// second after, though its signature is still this server's
// (PARLEY_FILE_URL_TTL, README "Files").
func TestSignedURLExpires(t *testing.T) {
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s := NewSigner([]byte("secret"), time.Hour)
	s.now = func() time.Time { return at }
	u, err := url.Parse(s.URL("sess", "up1", variantFile))
	if err != nil || !strings.HasPrefix(u.Path, Path) {
		t.Fatalf("URL %v, %v", u, err)
	}
	q := u.Query()
	fetch := func(after time.Duration) bool {
		s.now = func() time.Time { return at.Add(after) }
		return s.check(q.Get("s"), "up1", variantFile, q.Get("exp"), q.Get("sig"))
	}
	if !fetch(59 * time.Minute) {
		t.Fatal("refused within its hour")
	}
	if fetch(time.Hour + time.Second) {
		t.Fatal("accepted after its hour")
	}
	s.now = func() time.Time { return at }
	if s.check("other-session", "up1", variantFile, q.Get("exp"), q.Get("sig")) {
		t.Fatal("accepted for another session")
	}
}
