package media_test

import (
	"bytes"
	"errors"
	"image"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/media"
	"github.com/parley-chat/parley/internal/media/mediatest"
)

func TestSafeFilename(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"OK", "report.pdf", "report.pdf"},
		{"PathTraversal", "../../etc/passwd", "passwd"},
		{"WindowsPath", `C:\Users\me\notes.txt`, "notes.txt"},
		{"NUL", "evil\x00.txt", "evil.txt"},
		{"RTLOverride", "invoice\u202egnp.exe", "invoicegnp.exe"},
		{"ZeroWidth", "a\u200bb.txt", "ab.txt"},
		{"Empty", "", "file"},
		{"OnlyDots", "..", "file"},
		{"Chinese", "报告.docx", "报告.docx"},
		{"Long", strings.Repeat("文", 300) + ".txt", strings.Repeat("文", 65) + ".txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := media.SafeFilename(tc.in); got != tc.want {
				t.Errorf("SafeFilename(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"HTMLNamedPNG", "<!DOCTYPE html><script>alert(1)</script>", "text/html; charset=utf-8"},
		{"SVGIsNotAnImage", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "text/xml; charset=utf-8"},
		{"PNG", string(mediatest.PNG(t, 2, 2)), "image/png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := media.Sniff([]byte(tc.in))
			if got != tc.want || media.IsImage(got) != (tc.want == "image/png") {
				t.Errorf("Sniff = %q (image %v), want %q", got, media.IsImage(got), tc.want)
			}
		})
	}
}

func TestVoiceType(t *testing.T) {
	webm := append([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x84}, "webm"...)
	if got := media.VoiceType(webm); got != "audio/webm" {
		t.Errorf("WebM = %q", got)
	}
	if got := media.VoiceType([]byte("OggS\x00\x02")); got != "audio/ogg" {
		t.Errorf("Ogg = %q", got)
	}
	if got := media.VoiceType([]byte("ID3\x03 mp3")); got != "" {
		t.Errorf("MP3 = %q, want refused", got)
	}
}

func TestParseVoice(t *testing.T) {
	if v, err := media.ParseVoice("1500", "AAEC_w"); err != nil || v.DurationMS != 1500 || !bytes.Equal(v.Waveform, []byte{0, 1, 2, 255}) {
		t.Fatalf("ParseVoice = %+v, %v", v, err)
	}
	for name, args := range map[string][2]string{
		"ErrZeroDuration": {"0", ""}, "ErrTooLong": {"900001", ""}, "ErrNotNumber": {"x", ""},
		"ErrWaveformTooLong": {"10", strings.Repeat("A", 90)}, "ErrWaveformNotBase64": {"10", "!!"},
	} {
		if _, err := media.ParseVoice(args[0], args[1]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestBombRefusedFromHeader: a PNG header claiming 50,000 x 50,000 pixels
// (2.5 gigapixels, 10 GB decoded) is refused from the header alone: it
// has no pixels, so decoding would have failed with ErrNotImage instead.
func TestBombRefusedFromHeader(t *testing.T) {
	hdr := mediatest.PNGHeader(50_000, 50_000)
	_, err := media.DecodeImage(bytes.NewReader(hdr), 50_000_000)
	if !errors.Is(err, media.ErrTooManyPixels) {
		t.Fatalf("DecodeImage = %v, want ErrTooManyPixels", err)
	}
}

func TestImageOutputs(t *testing.T) {
	src := mediatest.PNG(t, 1000, 500)
	img, err := media.DecodeImage(bytes.NewReader(src), 50_000_000)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(img.Thumbnail()))
	if err != nil || cfg.Width != 480 || cfg.Height != 240 {
		t.Errorf("thumbnail %dx%d, %v; want 480x240", cfg.Width, cfg.Height, err)
	}
	cfg, _, err = image.DecodeConfig(bytes.NewReader(img.Avatar()))
	if err != nil || cfg.Width != 256 || cfg.Height != 256 {
		t.Errorf("avatar %dx%d, %v; want 256x256", cfg.Width, cfg.Height, err)
	}
}
