package testenv

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// WS is a WebSocket client of /ws, as a browser app would use it.
type WS struct {
	tb   testing.TB
	conn *websocket.Conn
}

// DialWS connects with the token in the Authorization header and waits for
// the ready frame.
func DialWS(tb testing.TB, baseURL, token string) (*WS, *chatv1.Ready) {
	tb.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	conn, _, err := websocket.DefaultDialer.Dial(strings.Replace(baseURL, "http", "ws", 1)+"/ws", h)
	if err != nil {
		tb.Fatalf("dial /ws: %v", err)
	}
	w := &WS{tb: tb, conn: conn}
	tb.Cleanup(func() { conn.Close() })
	f := w.Next(10 * time.Second)
	if f.GetReady() == nil {
		tb.Fatalf("first frame is not ready: %v", f)
	}
	return w, f.GetReady()
}

// Close closes the connection, as a tab that goes away.
func (w *WS) Close() { w.conn.Close() }

// Send writes a client frame.
func (w *WS) Send(f *chatv1.ClientFrame) {
	w.tb.Helper()
	data, err := protojson.Marshal(f)
	if err != nil {
		w.tb.Fatal(err)
	}
	if err := w.conn.WriteMessage(websocket.TextMessage, data); err != nil {
		w.tb.Fatalf("write frame: %v", err)
	}
}

// Resume asks for every message of the room after afterSeq.
func (w *WS) Resume(roomID, afterSeq int64) {
	w.Send(&chatv1.ClientFrame{Kind: &chatv1.ClientFrame_Resume{Resume: &chatv1.Resume{
		Rooms: []*chatv1.RoomCursor{{RoomId: roomID, AfterSeq: afterSeq}},
	}}})
}

// Next reads the next server frame, failing the test after timeout.
func (w *WS) Next(timeout time.Duration) *chatv1.ServerFrame {
	w.tb.Helper()
	f, err := w.TryNext(timeout)
	if err != nil {
		w.tb.Fatalf("read frame: %v", err)
	}
	return f
}

// TryNext reads the next server frame or returns the read error.
func (w *WS) TryNext(timeout time.Duration) (*chatv1.ServerFrame, error) {
	_ = w.conn.SetReadDeadline(time.Now().Add(timeout))
	_, data, err := w.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	var f chatv1.ServerFrame
	if err := protojson.Unmarshal(data, &f); err != nil {
		w.tb.Fatalf("bad frame %s: %v", data, err)
	}
	return &f, nil
}

// Messages reads frames until the room's message events reach seq upTo and
// returns the seqs received in order (duplicates included, so the caller
// can check there are none).
func (w *WS) Messages(roomID, upTo int64, timeout time.Duration) []int64 {
	w.tb.Helper()
	deadline := time.Now().Add(timeout)
	var seqs []int64
	for time.Now().Before(deadline) {
		f, err := w.TryNext(time.Until(deadline))
		if err != nil {
			w.tb.Fatalf("after seqs %v: %v", tail(seqs), err)
		}
		ev := f.GetEvent()
		if ev.GetMessageCreated() == nil || ev.GetRoomId() != roomID {
			continue
		}
		seqs = append(seqs, ev.GetSeq())
		if ev.GetSeq() >= upTo {
			return seqs
		}
	}
	w.tb.Fatalf("no seq %d within %s; got %v", upTo, timeout, tail(seqs))
	return nil
}

func tail(s []int64) []int64 {
	if len(s) > 20 {
		return s[len(s)-20:]
	}
	return s
}
