package files

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/media"
)

// reencode replaces a stored image with its re-encoded pixels (no EXIF)
// and stores its thumbnail; it records the size, dimensions and type.
func (f *Files) reencode(ctx context.Context, a *chat.Attachment) error {
	img, err := f.decode(ctx, a.ID)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		ct, err := img.Encode(pw)
		a.ContentType = ct
		pw.CloseWithError(err)
	}()
	n, err := f.blobs.Put(ctx, a.ID, pr, f.cfg.MaxBytes*4) // re-encoding may grow a well-compressed file
	_ = pr.CloseWithError(err)                             // ends the encoder if Put gave up
	if err != nil {
		return err
	}
	if _, err := f.blobs.Put(ctx, a.ID+thumbSuffix, bytes.NewReader(img.Thumbnail()), f.cfg.MaxBytes); err != nil {
		return err
	}
	a.Size, a.Width, a.Height, a.HasThumb = n, img.Width(), img.Height(), true
	return nil
}

// decode reads a stored image, refusing more than MaxPixels from its
// header.
func (f *Files) decode(ctx context.Context, key string) (media.Image, error) {
	obj, _, err := f.blobs.Open(ctx, key)
	if err != nil {
		return media.Image{}, err
	}
	defer obj.Close()
	img, err := media.DecodeImage(obj, f.cfg.MaxPixels)
	switch {
	case errors.Is(err, media.ErrTooManyPixels):
		return media.Image{}, chat.Errorf(chat.ErrInvalid, "the image is too large: %v (PARLEY_IMAGE_MAX_PIXELS)", err)
	case errors.Is(err, media.ErrNotImage):
		return media.Image{}, chat.Errorf(chat.ErrInvalid, "the image cannot be decoded; it may be damaged")
	}
	return img, err
}
