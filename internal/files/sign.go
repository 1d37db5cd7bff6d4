package files

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// Path is where downloads are served: Path + id, or Path + id + "/thumb".
const Path = "/v1/files/"

// Variants of an upload's blobs.
const (
	variantFile  = ""
	variantThumb = "thumb"
	thumbSuffix  = ".t" // the thumbnail's blob key is the upload's id + this
)

// Signer mints and checks download URLs: an HMAC-SHA256, under a server
// secret, of the upload's id, the variant, the expiry and the session the
// URL was minted for. The URL names the session so the fetch can check
// that it is still live and that its user may still read the file: a URL
// dies with a logout, a revoked device or leaving the room, not only when
// it expires. (A session id grants nothing by itself; refreshing needs the
// refresh token's secret half.)
type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewSigner signs with key; URLs live ttl.
func NewSigner(key []byte, ttl time.Duration) *Signer {
	return &Signer{key: key, ttl: ttl, now: time.Now}
}

// URL is a download URL of the upload's variant for the session.
func (s *Signer) URL(sessionID, id, variant string) string {
	exp := s.now().Add(s.ttl).Unix()
	p := Path + id
	if variant != variantFile {
		p += "/" + variant
	}
	q := url.Values{"exp": {strconv.FormatInt(exp, 10)}, "s": {sessionID}, "sig": {s.sign(sessionID, id, variant, exp)}}
	return p + "?" + q.Encode()
}

// Sign fills in an attachment's URLs for the session. The caller has
// checked that the session's user may read it: the message came from a
// room they are a member of, or the upload is theirs.
func (s *Signer) Sign(sessionID string, a *chatv1.Attachment) {
	a.Url = s.URL(sessionID, a.GetId(), variantFile)
	if a.GetKind() == chatv1.AttachmentKind_ATTACHMENT_KIND_IMAGE {
		a.ThumbnailUrl = s.URL(sessionID, a.GetId(), variantThumb)
	}
}

// SignMessages signs every attachment of the messages.
func (s *Signer) SignMessages(sessionID string, msgs ...*chatv1.Message) {
	for _, m := range msgs {
		for _, a := range m.GetAttachments() {
			s.Sign(sessionID, a)
		}
	}
}

// check says whether sig is this server's for the fields and unexpired.
func (s *Signer) check(sessionID, id, variant, expParam, sig string) bool {
	exp, err := strconv.ParseInt(expParam, 10, 64)
	if err != nil || s.now().Unix() > exp {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.sign(sessionID, id, variant, exp)))
}

func (s *Signer) sign(sessionID, id, variant string, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	// NUL separates the fields: none of them can hold one.
	m.Write([]byte(id + "\x00" + variant + "\x00" + strconv.FormatInt(exp, 10) + "\x00" + sessionID))
	return hex.EncodeToString(m.Sum(nil))
}
