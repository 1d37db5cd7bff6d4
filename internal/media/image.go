package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers the WebP decoder with image.Decode
)

// ErrTooManyPixels is an image larger than the pixel limit, refused from
// its header, before anything is decoded.
var ErrTooManyPixels = errors.New("image has too many pixels")

// ErrNotImage is a file whose header no decoder accepts.
var ErrNotImage = errors.New("not a decodable image")

// Sizes of what is made from an image.
const (
	// ThumbSide is a thumbnail's longest side.
	ThumbSide = 480
	// AvatarSide is a profile picture's side.
	AvatarSide = 256
	// jpegQuality balances size and look for photos.
	jpegQuality = 85
)

// Image is a decoded upload.
type Image struct {
	img    image.Image
	format string
}

// Bounds of the image.
func (i Image) Width() int  { return i.img.Bounds().Dx() }
func (i Image) Height() int { return i.img.Bounds().Dy() }

// DecodeImage reads the header first and refuses more than maxPixels
// (decompression bombs: a small PNG can claim 50,000 x 50,000) before
// decoding; then it rewinds r and decodes.
func DecodeImage(r io.ReadSeeker, maxPixels int64) (Image, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return Image{}, ErrNotImage
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return Image{}, fmt.Errorf("%w: %d x %d is more than %d", ErrTooManyPixels, cfg.Width, cfg.Height, maxPixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Image{}, err
	}
	img, format, err := image.Decode(r)
	if err != nil {
		return Image{}, ErrNotImage
	}
	return Image{img: img, format: format}, nil
}

// Encode writes what is served of the image: the pixels alone, re-encoded,
// so EXIF (GPS positions), comments and other chunks are gone. PNG and GIF
// stay lossless (a GIF's first frame only); JPEG and WebP become JPEG. It
// returns the served type.
func (i Image) Encode(w io.Writer) (string, error) {
	switch i.format {
	case "png":
		return "image/png", png.Encode(w, i.img)
	case "gif":
		return "image/gif", gif.Encode(w, i.img, nil)
	default:
		return "image/jpeg", jpeg.Encode(w, i.img, &jpeg.Options{Quality: jpegQuality})
	}
}

// Thumbnail is a JPEG whose longest side is ThumbSide (never enlarged).
func (i Image) Thumbnail() []byte {
	w, h := fit(i.Width(), i.Height(), ThumbSide)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), i.img, i.img.Bounds(), draw.Src, nil)
	return encodeJPEG(dst)
}

// Avatar is a JPEG of the image's centred square, AvatarSide wide.
func (i Image) Avatar() []byte {
	b := i.img.Bounds()
	side := min(b.Dx(), b.Dy())
	x, y := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	dst := image.NewRGBA(image.Rect(0, 0, AvatarSide, AvatarSide))
	draw.CatmullRom.Scale(dst, dst.Bounds(), i.img, image.Rect(x, y, x+side, y+side), draw.Src, nil)
	return encodeJPEG(dst)
}

func encodeJPEG(img image.Image) []byte {
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality}) // a bytes.Buffer does not fail
	return buf.Bytes()
}

// fit scales w x h so the longest side is at most side.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, h*side/w)
	}
	return max(1, w*side/h), side
}
