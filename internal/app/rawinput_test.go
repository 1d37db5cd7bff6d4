package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/testenv"
)

// post sends a raw Connect request, as curl would, and returns the status
// and the decoded JSON answer.
func post(t *testing.T, srv *testenv.Server, token, procedure, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/"+procedure, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

// TestRawInput: malformed, hostile and forged requests get a clear
// invalid_argument and leave nothing behind; fields a client may not set are
// ignored.
func TestRawInput(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(t, "raw")
	c.Join(t, testenv.General)
	const send = "chat.v1.MessageService/SendMessage"

	bad := map[string]struct {
		contentType string
		body        []byte
	}{
		"ErrMalformedJSON":   {"application/json", []byte(`{"roomId":"1","body":`)},
		"ErrDeeplyNested":    {"application/json", []byte(`{"roomId":"1","body":"x","clientMsgId":"n","x":` + strings.Repeat("[", 30000) + strings.Repeat("]", 30000) + `}`)},
		"ErrInvalidUTF8":     {"application/json", []byte("{\"roomId\":\"1\",\"body\":\"\xff\xfe\",\"clientMsgId\":\"u\"}")},
		"ErrWrongType":       {"application/json", []byte(`{"roomId":{"a":1},"body":"x","clientMsgId":"t"}`)},
		"ErrMalformedProto":  {"application/proto", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01}},
		"ErrInvalidUTF8Prot": {"application/proto", append([]byte{0x08, 0x01, 0x12, 0x02, 0xff, 0xfe, 0x1a, 0x01}, 'p')},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			status, out := post(t, srv, c.Token, send, tc.contentType, tc.body)
			if tc.contentType == "application/json" && (status != http.StatusBadRequest || out["code"] != "invalid_argument") {
				t.Fatalf("status %d, answer %v; want 400 invalid_argument", status, out)
			}
			if status == http.StatusOK {
				t.Fatalf("accepted: %v", out)
			}
		})
	}
	if n := len(allMessages(t, c, testenv.General)); n != 0 {
		t.Fatalf("%d messages stored from bad requests", n)
	}

	t.Run("ServerSetsSenderSeqIDAndTime", func(t *testing.T) {
		status, out := post(t, srv, c.Token, send, "application/json", []byte(`{
			"roomId":"1","body":"honest","clientMsgId":"forged",
			"id":"999","seq":"999","sender":{"id":"42","username":"admin"},"createdAt":"2001-01-01T00:00:00Z"}`))
		if status != http.StatusOK {
			t.Fatalf("status %d: %v", status, out)
		}
		msg := out["message"].(map[string]any)
		sender := msg["sender"].(map[string]any)
		if msg["seq"] != "1" || msg["id"] == "999" || sender["username"] != "raw" || strings.HasPrefix(msg["createdAt"].(string), "2001") {
			t.Fatalf("a client-set field was kept: %v", msg)
		}
	})
}
