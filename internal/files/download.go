package files

import (
	"errors"
	"mime"
	"net/http"
	"regexp"
	"time"

	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/media"
)

// Download is GET /v1/files/{id} and /v1/files/{id}/thumb. The URL's
// signature, its expiry, its session being live and the session's user
// being the uploader or a member of the room the file is in are all
// checked; any failure is the same 404 as a missing file.
func (f *Files) Download(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, variant := r.PathValue("id"), r.PathValue("variant")
	q := r.URL.Query()
	sid := q.Get("s")
	if (variant != variantFile && variant != variantThumb) || !f.signer.check(sid, id, variant, q.Get("exp"), q.Get("sig")) {
		f.writeError(ctx, w, errNoFile, 0)
		return
	}
	a, err := f.readable(r, sid, id)
	if err != nil {
		f.writeError(ctx, w, err, 0)
		return
	}
	key, ct := a.ID, a.ContentType
	if variant == variantThumb {
		if !a.HasThumb {
			f.writeError(ctx, w, errNoFile, 0)
			return
		}
		key, ct = a.ID+thumbSuffix, "image/jpeg"
	}
	f.serve(w, r, key, ct, a.Filename, "private")
}

// readable is the upload if the session's user may read it.
func (f *Files) readable(r *http.Request, sessionID, id string) (chat.Attachment, error) {
	userID, err := f.auth.SessionUser(r.Context(), sessionID)
	if err != nil {
		if errors.Is(err, chat.ErrUnavailable) {
			return chat.Attachment{}, err
		}
		return chat.Attachment{}, errNoFile
	}
	ok, err := f.store.MayReadUpload(r.Context(), userID, id)
	if err != nil || !ok {
		return chat.Attachment{}, errors.Join(err, errNoFile)
	}
	a, err := f.store.Upload(r.Context(), id)
	if errors.Is(err, chat.ErrNotFound) {
		return chat.Attachment{}, errNoFile
	}
	return a, err
}

// avatarPrefix keeps avatar blobs apart from uploads: /v1/avatars/ can
// never serve an upload, whose id members of its room know.
const avatarPrefix = "av-"

// avatarKey is what may follow AvatarPath: an avatar's blob key.
var avatarKey = regexp.MustCompile(`^` + avatarPrefix + `[0-9a-f]{32}$`)

// avatarMaxAge is how long browsers keep a picture: its URL changes with
// it, so forever.
const avatarMaxAge = "public, max-age=31536000, immutable"

// Avatar is GET /v1/avatars/{key}: the URL is the capability (see
// protoconv.AvatarPath).
func (f *Files) Avatar(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if !avatarKey.MatchString(key) {
		f.writeError(r.Context(), w, errNoFile, 0)
		return
	}
	f.serve(w, r, key, "image/jpeg", "avatar.jpg", avatarMaxAge)
}

// serve sends a blob with the headers that keep an uploaded page or SVG
// from ever running in Parley's origin: no sniffing, a sandbox CSP, and a
// download for anything but the inline image, audio and video types.
// http.ServeContent answers Range requests (seeking in audio).
func (f *Files) serve(w http.ResponseWriter, r *http.Request, key, contentType, filename, cache string) {
	obj, _, err := f.blobs.Open(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		err = errNoFile
	}
	if err != nil {
		f.writeError(r.Context(), w, err, 0)
		return
	}
	defer obj.Close()
	allowSlowTransfer(w)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'")
	h.Set("Cache-Control", cache)
	disposition := "attachment"
	if media.Inline(contentType) {
		disposition = "inline"
	}
	// FormatMediaType writes filename*=UTF-8''… for names that are not
	// plain ASCII.
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": filename}))
	http.ServeContent(w, r, "", time.Time{}, obj) // no Last-Modified: the URL names one version
}
