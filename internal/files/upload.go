package files

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/media"
	"github.com/parley-chat/parley/internal/protoconv"
)

// Upload is POST /v1/uploads: the file is the body (its name in
// ?filename=) or the one part of a multipart form. It streams to the blob
// store through a limit, never held whole in memory, and answers
// {"upload": Attachment} as Connect's JSON would.
func (f *Files) Upload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	allowSlowTransfer(w)
	p, err := f.authenticate(r)
	if err != nil {
		f.writeError(ctx, w, err, 0)
		return
	}
	a, err := f.receive(ctx, r, p.UserID)
	if err != nil {
		status := 0
		if errors.Is(err, blob.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		f.writeError(ctx, w, err, status)
		return
	}
	pb := protoconv.Attachment(a)
	f.signer.Sign(p.SessionID, pb)
	out, err := protojson.Marshal(&chatv1.UploadResponse{Upload: pb})
	if err != nil {
		f.writeError(ctx, w, err, 0)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// authenticate checks the bearer token and the user's upload rate.
func (f *Files) authenticate(r *http.Request) (auth.Principal, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return auth.Principal{}, chat.Errorf(chat.ErrUnauthenticated, "send the access token as Authorization: Bearer <token>")
	}
	p, err := f.auth.Authenticate(r.Context(), token)
	if err != nil {
		return auth.Principal{}, chat.Errorf(chat.ErrUnauthenticated, "the access token is invalid or expired; log in again")
	}
	wait, err := f.limiter.Take(r.Context(), "upload:{u:"+strconv.FormatInt(p.UserID, 10)+"}", f.cfg.Rate)
	if err != nil {
		return auth.Principal{}, err
	}
	if wait > 0 {
		return auth.Principal{}, chat.Errorf(chat.ErrExhausted, "you are uploading too fast; try again in %s", wait.Round(1e9))
	}
	return p, nil
}

// receive stores the request's file and its row; on any failure neither
// is left behind.
func (f *Files) receive(ctx context.Context, r *http.Request, userID int64) (chat.Attachment, error) {
	if r.ContentLength > f.cfg.MaxBytes {
		return chat.Attachment{}, f.tooLarge()
	}
	body, name, err := fileOf(r)
	if err != nil {
		return chat.Attachment{}, err
	}
	watched := &watch{r: body}
	in := bufio.NewReaderSize(watched, media.SniffLen)
	head, _ := in.Peek(media.SniffLen) // a shorter file is all head
	if len(head) == 0 {
		return chat.Attachment{}, chat.Errorf(chat.ErrInvalid, "the file is empty")
	}
	a := chat.Attachment{ID: newID(), Filename: media.SafeFilename(name), UploaderID: userID, CreatedAt: f.now().UTC().Truncate(time.Microsecond)}
	if err := classify(&a, head, r.URL.Query()); err != nil {
		return chat.Attachment{}, err
	}
	if a.Size, err = f.blobs.Put(ctx, a.ID, in, f.cfg.MaxBytes); err != nil {
		if errors.Is(err, blob.ErrTooLarge) {
			return chat.Attachment{}, f.tooLarge()
		}
		if watched.err != nil {
			return chat.Attachment{}, chat.Errorf(chat.ErrInvalid, "the upload ended before the file did; nothing was kept")
		}
		return chat.Attachment{}, chat.Unavailable("the file store", err)
	}
	if a.Kind == chat.ImageAttachment {
		err = f.reencode(ctx, &a)
	}
	if err == nil {
		err = f.store.CreateUpload(ctx, a, f.cfg.Quota)
	}
	if err != nil {
		if derr := f.deleteBlobs(context.WithoutCancel(ctx), a.ID); derr != nil {
			f.log.WarnContext(ctx, "delete a refused upload's blob", "blob", a.ID, "err", derr)
		}
		return chat.Attachment{}, err
	}
	return a, nil
}

// watch keeps the body's first read error, which tells a client that went
// away from a store that failed.
type watch struct {
	r   io.Reader
	err error
}

func (w *watch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil && err != io.EOF && w.err == nil {
		w.err = err
	}
	return n, err
}

func (f *Files) tooLarge() error {
	return fmt.Errorf("%w: %w", blob.ErrTooLarge, chat.Errorf(chat.ErrExhausted, "the file is larger than the limit of %d bytes", f.cfg.MaxBytes))
}

// fileOf is the request's file and the name given to it.
func fileOf(r *http.Request) (io.Reader, string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return r.Body, r.URL.Query().Get("filename"), nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", chat.Errorf(chat.ErrInvalid, "the multipart body cannot be read: %v", err)
	}
	part, err := mr.NextPart()
	if err != nil {
		return nil, "", chat.Errorf(chat.ErrInvalid, "the multipart body has no part")
	}
	name := part.FileName()
	if name == "" {
		name = r.URL.Query().Get("filename")
	}
	return part, name, nil
}

// classify sets the kind and type from the bytes, never from what the
// client declared: a voice recording only when the client asks for one
// and the bytes are a WebM or Ogg stream.
func classify(a *chat.Attachment, head []byte, q url.Values) error {
	if q.Get("kind") == "voice" {
		a.Kind, a.ContentType = chat.VoiceAttachment, media.VoiceType(head)
		if a.ContentType == "" {
			return chat.Errorf(chat.ErrInvalid, "a voice message must be Opus in WebM or Ogg, as MediaRecorder records")
		}
		v, err := media.ParseVoice(q.Get("duration_ms"), q.Get("waveform"))
		if err != nil {
			return chat.Errorf(chat.ErrInvalid, "%s", err.Error())
		}
		a.DurationMS, a.Waveform = v.DurationMS, v.Waveform
		return nil
	}
	a.Kind, a.ContentType = chat.FileAttachment, media.Sniff(head)
	if media.IsImage(a.ContentType) {
		a.Kind = chat.ImageAttachment
	}
	return nil
}
