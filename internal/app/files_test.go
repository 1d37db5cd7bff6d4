package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // thumbnails and avatars are JPEG
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/blob/s3"
	"github.com/parley-chat/parley/internal/media/mediatest"
	"github.com/parley-chat/parley/internal/testenv"
)

// fileServer is a chatd with small upload limits, and its blob directory.
func fileServer(t *testing.T, env map[string]string) (*testenv.Server, string) {
	t.Helper()
	e := testenv.ServerEnv(t)
	for k, v := range env {
		e[k] = v
	}
	srv := testenv.Start(t, e)
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range srv.Logs.Lines() {
				if strings.Contains(l, `"level":"ERROR"`) {
					t.Log(l)
				}
			}
		}
	})
	return srv, e["PARLEY_BLOB_DIR"]
}

// uploaded is an answer of POST /v1/uploads.
type uploaded struct {
	status int
	upload *chatv1.Attachment
	code   string // of an error
	msg    string
}

// upload posts body as token's file, with query (filename, kind, ...) and
// the declared type.
func upload(t *testing.T, srv *testenv.Server, token string, body io.Reader, declared string, query url.Values) uploaded {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/uploads?"+query.Encode(), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", declared)
	return answer(t, req)
}

func answer(t *testing.T, req *http.Request) uploaded {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := uploaded{status: res.StatusCode}
	if res.StatusCode != http.StatusOK {
		var e struct{ Code, Message string }
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("error answer %d is not JSON: %s", res.StatusCode, raw)
		}
		out.code, out.msg = e.Code, e.Message
		return out
	}
	var pb chatv1.UploadResponse
	if err := protojson.Unmarshal(raw, &pb); err != nil {
		t.Fatalf("answer %s: %v", raw, err)
	}
	out.upload = pb.GetUpload()
	return out
}

func mustUpload(t *testing.T, srv *testenv.Server, token string, body []byte, name string) *chatv1.Attachment {
	t.Helper()
	got := upload(t, srv, token, bytes.NewReader(body), "application/octet-stream", url.Values{"filename": {name}})
	if got.upload == nil {
		t.Fatalf("upload %s: %d %s %s", name, got.status, got.code, got.msg)
	}
	return got.upload
}

// fetch GETs a file URL (relative to the server) with extra headers.
func fetch(t *testing.T, srv *testenv.Server, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func sendFiles(t *testing.T, c *testenv.Client, room int64, body, id string, ids ...string) (*chatv1.Message, error) {
	t.Helper()
	res, err := c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: room, Body: body, ClientMsgId: id, AttachmentIds: ids})
	return res.GetMessage(), err
}

// lastAttachment is the newest message's first attachment as c sees it.
func lastAttachment(t *testing.T, c *testenv.Client, room int64) *chatv1.Attachment {
	t.Helper()
	res, err := c.Messages.ListMessages(context.Background(), &chatv1.ListMessagesRequest{RoomId: room, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	msgs := res.GetMessages()
	if len(msgs) != 1 || len(msgs[0].GetAttachments()) == 0 {
		t.Fatalf("newest message has no attachment: %v", msgs)
	}
	return msgs[0].GetAttachments()[0]
}

// blobs lists the blob directory, temporary files too.
func blobs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// waitBlobs polls until the directory holds want files.
func waitBlobs(t *testing.T, dir string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(blobs(t, dir)) != want {
		if time.Now().After(deadline) {
			t.Fatalf("blob directory holds %v, want %d files", blobs(t, dir), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFileRoundTrip: a message of only a file; a member downloads it with
// the headers that keep it from running, in ranges; a member who left, a
// forged or expired link and a deleted message's file all get the same
// 404; deleting the message deletes the blob.
func TestFileRoundTrip(t *testing.T) {
	srv, dir := fileServer(t, nil)
	ctx := context.Background()
	alice, bob := testenv.NewClient(srv, testenv.Protocols[0]), testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	bob.Signup(t, "bob")
	alice.Join(t, testenv.General)
	bob.Join(t, testenv.General)
	data := bytes.Repeat([]byte("parley file "), 1000)
	up := mustUpload(t, srv, alice.Token, data, "../../etc/notes.txt")
	if up.GetKind() != chatv1.AttachmentKind_ATTACHMENT_KIND_FILE || up.GetFilename() != "notes.txt" || up.GetSize() != int64(len(data)) || up.GetContentType() != "text/plain; charset=utf-8" {
		t.Fatalf("upload = %v", up)
	}
	msg, err := sendFiles(t, alice, testenv.General, "", "f1", up.GetId())
	if err != nil || len(msg.GetAttachments()) != 1 || msg.GetBody() != "" {
		t.Fatalf("message of only a file: %v, %v", msg, err)
	}

	got := lastAttachment(t, bob, testenv.General)
	res, body := fetch(t, srv, got.GetUrl())
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("download: %d, %d bytes", res.StatusCode, len(body))
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Content-Disposition": `attachment; filename=notes.txt`,
	} {
		if res.Header.Get(h) != want {
			t.Errorf("%s = %q, want %q", h, res.Header.Get(h), want)
		}
	}
	if !strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("CSP = %q, want sandbox", res.Header.Get("Content-Security-Policy"))
	}
	res, body = fetch(t, srv, got.GetUrl(), "Range", "bytes=7-10")
	if res.StatusCode != http.StatusPartialContent || string(body) != "file" {
		t.Errorf("range: %d %q, want 206 \"file\"", res.StatusCode, body)
	}

	missing, missingBody := fetch(t, srv, strings.Replace(got.GetUrl(), got.GetId(), strings.Repeat("0", 32), 1))
	if missing.StatusCode != http.StatusNotFound {
		t.Fatalf("missing file: %d", missing.StatusCode)
	}
	u, _ := url.Parse(got.GetUrl())
	forged := u.Query()
	forged.Set("exp", fmt.Sprint(time.Now().Add(48*time.Hour).Unix()))
	for name, path := range map[string]string{
		"Unsigned": u.Path, "LongerExpiry": u.Path + "?" + forged.Encode(), "Thumbnail of a file": u.Path + "/thumb?" + u.RawQuery,
	} {
		res, body := fetch(t, srv, path)
		if res.StatusCode != http.StatusNotFound || !bytes.Equal(body, missingBody) {
			t.Errorf("%s: %d %s, want the missing file's 404", name, res.StatusCode, body)
		}
	}

	if _, err := bob.Rooms.LeaveRoom(ctx, &chatv1.LeaveRoomRequest{RoomId: testenv.General}); err != nil {
		t.Fatal(err)
	}
	if res, body := fetch(t, srv, got.GetUrl()); res.StatusCode != http.StatusNotFound || !bytes.Equal(body, missingBody) {
		t.Errorf("after leaving the room: %d %s, want 404", res.StatusCode, body)
	}

	if _, err := alice.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: testenv.General, MessageSeq: msg.GetSeq()}); err != nil {
		t.Fatal(err)
	}
	waitBlobs(t, dir, 0)
	// The uploader's own URL, minted on upload, still signed: the file is gone.
	if res, _ := fetch(t, srv, up.GetUrl()); res.StatusCode != http.StatusNotFound {
		t.Errorf("deleted message's file: %d, want 404", res.StatusCode)
	}
}

// TestUploadRefusals: too large (413), over quota, empty, a truncated
// body; none leaves a blob or a row behind.
func TestUploadRefusals(t *testing.T) {
	srv, dir := fileServer(t, map[string]string{"PARLEY_UPLOAD_MAX_BYTES": "10000", "PARLEY_UPLOAD_QUOTA_BYTES": "15000"})
	alice := testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	t.Run("TooLarge", func(t *testing.T) {
		// Streamed (no Content-Length), so the limit is found while reading.
		got := upload(t, srv, alice.Token, io.MultiReader(bytes.NewReader(make([]byte, 10001))), "application/octet-stream", nil)
		if got.status != http.StatusRequestEntityTooLarge || got.code != "resource_exhausted" {
			t.Fatalf("got %d %s %q, want 413 resource_exhausted", got.status, got.code, got.msg)
		}
	})
	t.Run("AtTheLimit", func(t *testing.T) {
		mustUpload(t, srv, alice.Token, bytes.Repeat([]byte{'a'}, 10000), "a.txt")
	})
	t.Run("Quota", func(t *testing.T) {
		got := upload(t, srv, alice.Token, bytes.NewReader(bytes.Repeat([]byte{'b'}, 6000)), "text/plain", nil)
		if got.code != "resource_exhausted" || !strings.Contains(got.msg, "15000") {
			t.Fatalf("over quota: %d %s %q", got.status, got.code, got.msg)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if got := upload(t, srv, alice.Token, bytes.NewReader(nil), "text/plain", nil); got.code != "invalid_argument" {
			t.Fatalf("empty: %d %s", got.status, got.code)
		}
	})
	t.Run("Truncated", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /v1/uploads?filename=cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 9000\r\n\r\n", alice.Token)
		_, _ = conn.Write(bytes.Repeat([]byte{'c'}, 3000))
		time.Sleep(100 * time.Millisecond) // the server is reading the body
		conn.Close()
	})
	t.Run("Unauthenticated", func(t *testing.T) {
		if got := upload(t, srv, "nope", strings.NewReader("x"), "text/plain", nil); got.status != http.StatusUnauthorized {
			t.Fatalf("bad token: %d %s", got.status, got.code)
		}
	})
	// Only the upload at the limit is kept; the quota still counts only it.
	waitBlobs(t, dir, 1)
	if got := upload(t, srv, alice.Token, bytes.NewReader(make([]byte, 5000)), "text/plain", nil); got.upload == nil {
		t.Fatalf("within quota after the refusals: %d %s %q", got.status, got.code, got.msg)
	}
}

// TestUploadSniffing: the bytes decide the kind and type. HTML declared
// as PNG is a FILE of text/html; an SVG with script is a FILE downloaded
// under the sandbox; a real PNG is an IMAGE with a 480 px thumbnail; a
// 50,000 x 50,000 header is refused before decoding; unsafe names are
// made safe.
func TestUploadSniffing(t *testing.T) {
	srv, dir := fileServer(t, nil)
	alice := testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	t.Run("HTMLAsPNG", func(t *testing.T) {
		got := upload(t, srv, alice.Token, strings.NewReader("<!DOCTYPE html><script>alert(document.cookie)</script>"), "image/png", url.Values{"filename": {"cat.png"}})
		if a := got.upload; a.GetKind() != chatv1.AttachmentKind_ATTACHMENT_KIND_FILE || a.GetContentType() != "text/html; charset=utf-8" || a.GetThumbnailUrl() != "" {
			t.Fatalf("HTML named PNG: %v", a)
		}
		res, _ := fetch(t, srv, got.upload.GetUrl())
		if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("served inline: %v", res.Header)
		}
	})
	t.Run("SVGWithScript", func(t *testing.T) {
		svg := `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`
		got := upload(t, srv, alice.Token, strings.NewReader(svg), "image/svg+xml", url.Values{"filename": {"logo.svg"}})
		if got.upload.GetKind() != chatv1.AttachmentKind_ATTACHMENT_KIND_FILE {
			t.Fatalf("SVG: %v", got.upload)
		}
		res, body := fetch(t, srv, got.upload.GetUrl())
		if string(body) != svg || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
			!strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "sandbox") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("SVG served with %v", res.Header)
		}
	})
	t.Run("Image", func(t *testing.T) {
		got := upload(t, srv, alice.Token, bytes.NewReader(mediatest.PNG(t, 1000, 500)), "image/png", url.Values{"filename": {"wide.png"}})
		a := got.upload
		if a.GetKind() != chatv1.AttachmentKind_ATTACHMENT_KIND_IMAGE || a.GetWidth() != 1000 || a.GetHeight() != 500 || a.GetContentType() != "image/png" {
			t.Fatalf("PNG: %v (%s)", a, got.msg)
		}
		res, body := fetch(t, srv, a.GetThumbnailUrl())
		cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
		if err != nil || format != "jpeg" || cfg.Width != 480 || cfg.Height != 240 || res.Header.Get("Content-Disposition") != "inline; filename=wide.png" {
			t.Errorf("thumbnail %s %dx%d (%v), %v", format, cfg.Width, cfg.Height, err, res.Header)
		}
	})
	t.Run("Bomb", func(t *testing.T) {
		before := len(blobs(t, dir))
		got := upload(t, srv, alice.Token, bytes.NewReader(mediatest.PNGHeader(50_000, 50_000)), "image/png", nil)
		if got.code != "invalid_argument" || !strings.Contains(got.msg, "50000 x 50000") {
			t.Fatalf("bomb: %d %s %q", got.status, got.code, got.msg)
		}
		if n := len(blobs(t, dir)); n != before {
			t.Errorf("the refused image left a blob: %v", blobs(t, dir))
		}
	})
	for name, tc := range map[string][2]string{
		"PathTraversal": {"../../etc/passwd", "passwd"}, "NUL": {"a\x00b.txt", "ab.txt"},
		"RTLOverride": {"photo\u202egpj.exe", "photogpj.exe"}, "Empty": {"", "file"},
	} {
		t.Run(name, func(t *testing.T) {
			if a := mustUpload(t, srv, alice.Token, []byte("x"), tc[0]); a.GetFilename() != tc[1] {
				t.Errorf("filename %q stored as %q, want %q", tc[0], a.GetFilename(), tc[1])
			}
		})
	}
	t.Run("Multipart", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		part, _ := mw.CreateFormFile("file", "报告 2026.txt")
		_, _ = part.Write([]byte("hello"))
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/uploads", &buf)
		req.Header.Set("Authorization", "Bearer "+alice.Token)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		got := answer(t, req)
		if got.upload.GetFilename() != "报告 2026.txt" || got.upload.GetSize() != 5 {
			t.Fatalf("multipart: %v %s", got.upload, got.msg)
		}
		res, _ := fetch(t, srv, got.upload.GetUrl())
		if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=utf-8''%E6%8A%A5%E5%91%8A") {
			t.Errorf("Content-Disposition = %q", cd)
		}
	})
}

// webm is the start of a WebM file as MediaRecorder writes it.
var webm = append([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84}, "webm and then opus frames"...)

// TestVoiceAndAttachRules: a voice message is a WebM or Ogg stream with
// a checked duration and waveform; an upload is attached once, by its
// owner, to a message in the room, and the room's members see it.
func TestVoiceAndAttachRules(t *testing.T) {
	srv, _ := fileServer(t, nil)
	ctx := context.Background()
	alice, bob := testenv.NewClient(srv, testenv.Protocols[0]), testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	bob.Signup(t, "bob")
	alice.Join(t, testenv.General)
	bob.Join(t, testenv.General)
	voice := url.Values{"kind": {"voice"}, "duration_ms": {"1500"}, "waveform": {"AAEC_w"}}
	got := upload(t, srv, alice.Token, bytes.NewReader(webm), "audio/webm;codecs=opus", voice)
	v := got.upload
	if v.GetKind() != chatv1.AttachmentKind_ATTACHMENT_KIND_VOICE || v.GetDurationMs() != 1500 || !bytes.Equal(v.GetWaveform(), []byte{0, 1, 2, 255}) || v.GetContentType() != "audio/webm" {
		t.Fatalf("voice: %v %s", v, got.msg)
	}
	if got := upload(t, srv, alice.Token, strings.NewReader("ID3 not a webm"), "audio/webm", voice); got.code != "invalid_argument" {
		t.Errorf("MP3 as voice: %d %s", got.status, got.code)
	}
	voice.Set("duration_ms", "900001")
	if got := upload(t, srv, alice.Token, bytes.NewReader(webm), "audio/webm", voice); got.code != "invalid_argument" {
		t.Errorf("16-minute voice: %d %s", got.status, got.code)
	}

	if _, err := sendFiles(t, bob, testenv.General, "mine now", "steal", v.GetId()); testenv.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("bob attaching alice's upload: %v", err)
	}
	sent, err := sendFiles(t, alice, testenv.General, "listen", "v1", v.GetId())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sendFiles(t, alice, testenv.General, "again", "v2", v.GetId()); testenv.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("attaching twice: %v", err)
	}
	// A retry of the send, an edit and the room's log all show the message
	// whole; the log, like live events, without URLs.
	if again, err := sendFiles(t, alice, testenv.General, "listen", "v1", v.GetId()); err != nil || len(again.GetAttachments()) != 1 || again.GetAttachments()[0].GetUrl() == "" {
		t.Errorf("retried send: %v, %v", again, err)
	}
	edited, err := alice.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: testenv.General, MessageSeq: sent.GetSeq(), Body: "listen!"})
	if err != nil || len(edited.GetMessage().GetAttachments()) != 1 || edited.GetMessage().GetAttachments()[0].GetUrl() == "" {
		t.Errorf("edited: %v, %v", edited, err)
	}
	log, err := bob.Messages.ListEvents(ctx, &chatv1.ListEventsRequest{RoomId: testenv.General})
	if err != nil {
		t.Fatal(err)
	}
	var carried int
	for _, e := range log.GetEvents() {
		for _, m := range []*chatv1.Message{e.GetMessageCreated().GetMessage(), e.GetMessageEdited().GetMessage()} {
			for _, a := range m.GetAttachments() {
				if a.GetId() != v.GetId() || a.GetUrl() != "" || a.GetDurationMs() != 1500 {
					t.Errorf("attachment in the log: %v", a)
				}
				carried++
			}
		}
	}
	if carried != 2 {
		t.Errorf("the log carries the voice message %d times, want 2 (created, edited): %v", carried, log.GetEvents())
	}
	a := lastAttachment(t, bob, testenv.General)
	res, body := fetch(t, srv, a.GetUrl())
	if a.GetDurationMs() != 1500 || !bytes.Equal(body, webm) || res.Header.Get("Content-Disposition") != "inline; filename=file" || res.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("voice as bob gets it: %v, %v", a, res.Header)
	}
	if _, err := sendFiles(t, alice, testenv.General, "", "none"); testenv.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("a message with no text and no file: %v", err)
	}
}

// TestAvatar: an image upload becomes a 256 px square picture that anyone
// who sees the user can load.
func TestAvatar(t *testing.T) {
	srv, _ := fileServer(t, nil)
	alice := testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	up := mustUpload(t, srv, alice.Token, mediatest.PNG(t, 300, 200), "me.png")
	id := up.GetId()
	res, err := alice.Users.UpdateProfile(context.Background(), &chatv1.UpdateProfileRequest{AvatarUploadId: &id})
	if err != nil || res.GetUser().GetAvatarUrl() == "" {
		t.Fatalf("UpdateProfile: %v, %v", res, err)
	}
	pic, body := fetch(t, srv, res.GetUser().GetAvatarUrl())
	cfg, format, err := image.DecodeConfig(bufio.NewReader(bytes.NewReader(body)))
	if pic.StatusCode != http.StatusOK || err != nil || format != "jpeg" || cfg.Width != 256 || cfg.Height != 256 {
		t.Fatalf("avatar: %d %s %dx%d %v", pic.StatusCode, format, cfg.Width, cfg.Height, err)
	}
	file := mustUpload(t, srv, alice.Token, []byte("not a picture"), "x.txt").GetId()
	if _, err := alice.Users.UpdateProfile(context.Background(), &chatv1.UpdateProfileRequest{AvatarUploadId: &file}); testenv.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("a text file as avatar: %v", err)
	}
	if res, _ := fetch(t, srv, "/v1/avatars/"+id); res.StatusCode != http.StatusNotFound {
		t.Errorf("an upload's id under /v1/avatars/: %d, want 404", res.StatusCode)
	}
}

// TestAttachOnceUnderRace: ten sends at once, in two rooms, each trying to
// attach the same upload: exactly one message gets it, the others hear
// failed_precondition, and no message shows it twice.
func TestAttachOnceUnderRace(t *testing.T) {
	srv, _ := fileServer(t, nil)
	ctx := context.Background()
	alice := testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	alice.Join(t, testenv.General)
	other, err := alice.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	rooms := []int64{testenv.General, other.GetRoom().GetId()}
	id := mustUpload(t, srv, alice.Token, []byte("once"), "once.txt").GetId()
	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			_, err := sendFiles(t, alice, rooms[i%2], fmt.Sprintf("try %d", i), fmt.Sprintf("race-%d", i), id)
			errs <- err
		}()
	}
	won := 0
	for range 10 {
		switch err := <-errs; testenv.CodeOf(err) {
		case 0:
			won++
		case connect.CodeFailedPrecondition:
		default:
			t.Errorf("send: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d messages attached the upload, want 1", won)
	}
	seen := 0
	for _, room := range rooms {
		res, err := alice.Messages.ListMessages(ctx, &chatv1.ListMessagesRequest{RoomId: room, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.GetMessages() {
			seen += len(m.GetAttachments())
		}
	}
	if seen != 1 {
		t.Errorf("the upload shows in %d messages, want 1", seen)
	}
}

// TestFilesOnS3: the same server on the S3 backend (SeaweedFS on
// loopback): an image uploaded, re-encoded and thumbnailed there, read by
// a member in ranges, and deleted from the bucket with its message.
func TestFilesOnS3(t *testing.T) {
	cfg := testenv.StartS3(t)
	srv, _ := fileServer(t, map[string]string{
		"PARLEY_S3_ENDPOINT": cfg.Endpoint, "PARLEY_S3_BUCKET": cfg.Bucket,
		"PARLEY_S3_ACCESS_KEY": cfg.AccessKey, "PARLEY_S3_SECRET_KEY": cfg.SecretKey,
	})
	ctx := context.Background()
	alice, bob := testenv.NewClient(srv, testenv.Protocols[0]), testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	bob.Signup(t, "bob")
	alice.Join(t, testenv.General)
	bob.Join(t, testenv.General)
	up := mustUpload(t, srv, alice.Token, mediatest.PNG(t, 960, 960), "square.png")
	msg, err := sendFiles(t, alice, testenv.General, "", "s3-1", up.GetId())
	if err != nil {
		t.Fatal(err)
	}
	got := lastAttachment(t, bob, testenv.General)
	res, body := fetch(t, srv, got.GetUrl(), "Range", "bytes=0-7")
	if res.StatusCode != http.StatusPartialContent || string(body) != "\x89PNG\r\n\x1a\n" {
		t.Fatalf("range of the image from S3: %d %q", res.StatusCode, body)
	}
	res, body = fetch(t, srv, got.GetThumbnailUrl())
	if thumb, _, err := image.DecodeConfig(bytes.NewReader(body)); res.StatusCode != http.StatusOK || err != nil || thumb.Width != 480 {
		t.Fatalf("thumbnail from S3: %d %v %v", res.StatusCode, thumb, err)
	}
	if _, err := alice.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: testenv.General, MessageSeq: msg.GetSeq()}); err != nil {
		t.Fatal(err)
	}
	bucket, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, key := range []string{up.GetId(), up.GetId() + ".t"} {
		for {
			obj, _, err := bucket.Open(ctx, key)
			if errors.Is(err, blob.ErrNotFound) {
				break
			}
			if err == nil {
				obj.Close()
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is still in the bucket after its message was deleted (%v)", key, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestSearchHitsCarryFileURLs: a hit's attachments come signed for the
// searcher, as in the timeline, so a found file opens from the results.
func TestSearchHitsCarryFileURLs(t *testing.T) {
	srv, _ := fileServer(t, nil)
	alice, bob := testenv.NewClient(srv, testenv.Protocols[0]), testenv.NewClient(srv, testenv.Protocols[0])
	alice.Signup(t, "alice")
	bob.Signup(t, "bob")
	alice.Join(t, testenv.General)
	bob.Join(t, testenv.General)
	data := []byte("quarterly figures")
	up := mustUpload(t, srv, alice.Token, data, "figures.txt")
	if _, err := sendFiles(t, alice, testenv.General, "the quarterly report", "q1", up.GetId()); err != nil {
		t.Fatal(err)
	}
	res, err := bob.Messages.SearchMessages(context.Background(), &chatv1.SearchMessagesRequest{Query: "quarterly"})
	if err != nil || len(res.GetHits()) != 1 || len(res.GetHits()[0].GetMessage().GetAttachments()) != 1 {
		t.Fatalf("search: %v, %v; want one hit with its file", res, err)
	}
	got := res.GetHits()[0].GetMessage().GetAttachments()[0]
	if r, body := fetch(t, srv, got.GetUrl()); r.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("the hit's file URL %q: %d, %d bytes", got.GetUrl(), r.StatusCode, len(body))
	}
}
