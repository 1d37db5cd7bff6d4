// Package media decides what an uploaded file is from its bytes, and makes
// what is served of images: the sniffing, the decompression-bomb check,
// the re-encoding that strips metadata, thumbnails and avatars. It holds
// no state and wraps golang.org/x/image; the decoders are the standard
// library's and x/image's, never hand-written.
package media

import (
	"bytes"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SniffLen is how much of a file Sniff looks at: http.DetectContentType's
// window.
const SniffLen = 512

// Image types the server decodes, re-encodes and shows inline.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// IsImage says whether a sniffed type is an image the server decodes. SVG
// is never one: it is a document that can hold script, so it is a FILE.
func IsImage(contentType string) bool { return imageTypes[contentType] }

// Sniff is the type of a file from its first bytes. http.DetectContentType
// knows the common types; it calls WebM video/webm and Ogg application/ogg
// whatever they hold, which VoiceType narrows.
func Sniff(head []byte) string {
	t := http.DetectContentType(head)
	if mt, _, err := mime.ParseMediaType(t); err == nil && imageTypes[mt] {
		return mt
	}
	return t
}

// The containers a browser's MediaRecorder writes Opus into.
var (
	ebmlMagic = []byte{0x1A, 0x45, 0xDF, 0xA3}
	oggMagic  = []byte("OggS")
)

// VoiceType is audio/webm or audio/ogg when head starts a WebM (EBML) or
// Ogg stream, else "".
func VoiceType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, ebmlMagic) && bytes.Contains(head, []byte("webm")):
		return "audio/webm"
	case bytes.HasPrefix(head, oggMagic):
		return "audio/ogg"
	}
	return ""
}

// inlineTypes are shown by browsers in place: images the server decoded
// and re-encoded, and audio and video of the voice containers. Anything
// else is served as a download.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"audio/webm": true, "audio/ogg": true, "video/webm": true, "video/mp4": true, "audio/mpeg": true,
}

// Inline says whether a stored type may be shown in the browser rather
// than downloaded.
func Inline(contentType string) bool { return inlineTypes[contentType] }

// MaxFilenameBytes caps a stored name (uploads.filename is 255 characters;
// bytes keep it within any file system's limit on download).
const MaxFilenameBytes = 200

// SafeFilename is the name as stored and offered on download: the base
// name only (no directories, either slash), without control, format
// (bidi overrides, zero-width) or invalid characters, trimmed, cut to
// MaxFilenameBytes at a character boundary keeping the extension; "file"
// when nothing is left.
func SafeFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if name == "" || name == "/" {
		return "file"
	}
	if len(name) > MaxFilenameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		name = cutUTF8(name[:len(name)-len(ext)], MaxFilenameBytes-len(ext)) + ext
	}
	return name
}

// cutUTF8 is s within n bytes, not splitting a character.
func cutUTF8(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
