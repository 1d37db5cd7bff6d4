package push_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// Bounds of the tests' waits: generous for -race on two cores, yet every
// test ends in bounded time.
const (
	// waitFor bounds how long a frame that must come may take.
	waitFor = 10 * time.Second
	// quiet is how long a test watches for a frame that must not come.
	quiet = 700 * time.Millisecond
	// frameBuffer is how many received frames a test client holds unread.
	frameBuffer = 1 << 14
)

// rpcProto is the protocol most helpers use for their RPCs.
var rpcProto = testenv.Protocols[0]

// startServer runs an in-process chatd of the test's own; set changes its
// environment first (e.g. PARLEY_SEND_QUEUE).
func startServer(tb testing.TB, set map[string]string) *testenv.Server {
	tb.Helper()
	return testenv.Start(tb, pushEnv(tb, set))
}

// pushEnv is a server environment whose request rate limits stay out of
// the way of bursts (they have tests of their own), changed by set.
func pushEnv(tb testing.TB, set map[string]string) testenv.Env {
	tb.Helper()
	env := testenv.ServerEnv(tb)
	env["PARLEY_LIMIT_SEND"] = "100000/100s"
	env["PARLEY_LIMIT_CALLS"] = "100000/100s"
	for k, v := range set {
		env[k] = v
	}
	return env
}

// member signs a user up on srv and joins General.
func member(tb testing.TB, srv *testenv.Server, name string) *testenv.Client {
	tb.Helper()
	c := testenv.NewClient(srv, rpcProto)
	c.Signup(tb, name)
	c.Join(tb, testenv.General)
	return c
}

// newSession logs name (signed up by member) in again on srv: a session of
// its own, as a second device would have.
func newSession(tb testing.TB, srv *testenv.Server, name string) *testenv.Client {
	tb.Helper()
	c := testenv.NewClient(srv, rpcProto)
	res, err := c.Auth.Login(context.Background(), &chatv1.LoginRequest{Login: name, Password: "password-" + name})
	if err != nil {
		tb.Fatalf("log %s in again: %v", name, err)
	}
	c.Token = res.GetAccessToken()
	return c
}

// userID is the id of the client's user.
func userID(tb testing.TB, c *testenv.Client) int64 {
	tb.Helper()
	res, err := c.Auth.GetMe(context.Background(), &chatv1.GetMeRequest{})
	if err != nil {
		tb.Fatalf("GetMe: %v", err)
	}
	return res.GetUser().GetId()
}

// live is one live connection seen from the client: a WebSocket or a
// Subscribe stream, read by its own goroutine into frames.
type live struct {
	name     string
	messages atomic.Int64 // WebSocket messages read
	frames   chan *chatv1.ServerFrame
	done     chan struct{} // closed after the last frame, when the connection ended
	err      error         // why it ended; set before done is closed
	ws       *websocket.Conn
	cancel   context.CancelFunc // ends a stream
}

// wsURL is the /ws address of srv, with an optional query.
func wsURL(srv *testenv.Server, query string) string {
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dialWS opens /ws with header (nil for none) and returns the socket and the
// upgrade response; it fails the test only when the server is unreachable.
func dialWS(tb testing.TB, srv *testenv.Server, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	tb.Helper()
	return dialWSAs(tb, srv, query, header)
}

// dialWSAs is dialWS asking for the subprotocols, in order of preference.
func dialWSAs(tb testing.TB, srv *testenv.Server, query string, header http.Header, subprotocols ...string) (*websocket.Conn, *http.Response, error) {
	tb.Helper()
	d := websocket.Dialer{HandshakeTimeout: waitFor, Subprotocols: subprotocols}
	conn, resp, err := d.Dial(wsURL(srv, query), header)
	if conn != nil {
		tb.Cleanup(func() { conn.Close() })
	}
	if err != nil && resp == nil {
		tb.Fatalf("dial %s: %v", wsURL(srv, query), err)
	}
	return conn, resp, err
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// openWS connects with the client's token in the Authorization header and
// returns the live socket after its Ready.
func openWS(tb testing.TB, srv *testenv.Server, c *testenv.Client) (*live, *chatv1.Ready) {
	tb.Helper()
	conn, resp, err := dialWS(tb, srv, "", bearer(c.Token))
	if err != nil {
		tb.Fatalf("dial /ws: %v (HTTP %d)", err, resp.StatusCode)
	}
	l := readWS("ws", conn)
	return l, l.ready(tb)
}

// openWSResuming connects the way the web app does, with the token and the
// cursors in the first frame, and returns the live socket after its Ready.
func openWSResuming(tb testing.TB, srv *testenv.Server, c *testenv.Client, cursors ...*chatv1.RoomCursor) (*live, *chatv1.Ready) {
	tb.Helper()
	return openWSResumingAs(tb, srv, c, "", cursors...)
}

// openWSResumingAs is openWSResuming on a subprotocol ("" for none), which
// the server must accept.
func openWSResumingAs(tb testing.TB, srv *testenv.Server, c *testenv.Client, subprotocol string, cursors ...*chatv1.RoomCursor) (*live, *chatv1.Ready) {
	tb.Helper()
	conn, resp, err := dialWSAs(tb, srv, "", nil, subprotocol)
	if err != nil {
		tb.Fatalf("dial /ws: %v (HTTP %d)", err, resp.StatusCode)
	}
	if conn.Subprotocol() != subprotocol {
		tb.Fatalf("asked for subprotocol %q, the server chose %q", subprotocol, conn.Subprotocol())
	}
	l := readWS("ws", conn)
	frame, err := protojson.Marshal(&chatv1.ClientFrame{Kind: &chatv1.ClientFrame_Auth{Auth: &chatv1.Auth{Token: c.Token, Resume: cursors}}})
	if err != nil {
		tb.Fatal(err)
	}
	l.send(tb, string(frame))
	return l, l.ready(tb)
}

// readWS starts reading conn into a live, each message as its subprotocol
// says: one ServerFrame, or a ServerFrames of several; JSON in text
// messages, protobuf in binary ones. messages counts what it read.
func readWS(name string, conn *websocket.Conn) *live {
	l := &live{name: name, frames: make(chan *chatv1.ServerFrame, frameBuffer), done: make(chan struct{}), ws: conn}
	batch := strings.Contains(conn.Subprotocol(), ".batch.")
	go func() {
		defer close(l.done)
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				l.err = err
				return
			}
			l.messages.Add(1)
			frames, err := decodeServerMessage(kind == websocket.BinaryMessage, batch, data)
			if err != nil {
				l.err = fmt.Errorf("undecodable message %q: %w", data, err)
				return
			}
			for _, f := range frames {
				l.frames <- f
			}
		}
	}()
	return l
}

// decodeServerMessage reads one WebSocket message of the server's.
func decodeServerMessage(binary, batch bool, data []byte) ([]*chatv1.ServerFrame, error) {
	unmarshal := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal
	if binary {
		unmarshal = (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal
	}
	if batch {
		var fs chatv1.ServerFrames
		err := unmarshal(data, &fs)
		return fs.GetFrames(), err
	}
	var f chatv1.ServerFrame
	err := unmarshal(data, &f)
	return []*chatv1.ServerFrame{&f}, err
}

// subscribe opens MessageService.Subscribe over p with the client's token
// and returns the live stream after its Ready.
func subscribe(tb testing.TB, srv *testenv.Server, c *testenv.Client, p testenv.Protocol, resume ...*chatv1.RoomCursor) (*live, *chatv1.Ready) {
	tb.Helper()
	sc := testenv.NewClient(srv, p)
	sc.Token = c.Token
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	stream, err := sc.Messages.Subscribe(ctx, &chatv1.SubscribeRequest{Resume: resume})
	if err != nil {
		tb.Fatalf("subscribe over %s: %v", p.Name, err)
	}
	l := &live{name: p.Name, frames: make(chan *chatv1.ServerFrame, frameBuffer), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(l.done)
		defer stream.Close()
		for stream.Receive() {
			var f chatv1.ServerFrame
			switch k := stream.Msg().GetKind().(type) {
			case *chatv1.SubscribeResponse_Ready:
				f.Kind = &chatv1.ServerFrame_Ready{Ready: k.Ready}
			case *chatv1.SubscribeResponse_Event:
				f.Kind = &chatv1.ServerFrame_Event{Event: k.Event}
			case *chatv1.SubscribeResponse_Reconnect:
				f.Kind = &chatv1.ServerFrame_Reconnect{Reconnect: k.Reconnect}
			}
			l.frames <- &f
		}
		l.err = stream.Err()
	}()
	return l, l.ready(tb)
}

// send writes one JSON text frame.
func (l *live) send(tb testing.TB, json string) {
	tb.Helper()
	if err := l.ws.WriteMessage(websocket.TextMessage, []byte(json)); err != nil {
		tb.Fatalf("%s: write %s: %v", l.name, json, err)
	}
}

// next returns the next frame, or nil when the connection ended first; it
// fails the test after d.
func (l *live) next(tb testing.TB, d time.Duration) *chatv1.ServerFrame {
	tb.Helper()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case f := <-l.frames:
		return f
	case <-l.done:
		select {
		case f := <-l.frames:
			return f
		default:
			return nil
		}
	case <-t.C:
		tb.Fatalf("%s: no frame within %s", l.name, d)
		return nil
	}
}

func (l *live) ready(tb testing.TB) *chatv1.Ready {
	tb.Helper()
	f := l.next(tb, waitFor)
	if f.GetReady() == nil {
		tb.Fatalf("%s: want ready first, got %v (ended: %v)", l.name, f, l.err)
	}
	return f.GetReady()
}

// waitEvent skips frames until an event matching ok arrives.
func (l *live) waitEvent(tb testing.TB, what string, ok func(*chatv1.Event) bool) *chatv1.Event {
	tb.Helper()
	return l.waitEventWithin(tb, waitFor, what, ok)
}

// waitEventWithin is waitEvent with its own bound.
func (l *live) waitEventWithin(tb testing.TB, d time.Duration, what string, ok func(*chatv1.Event) bool) *chatv1.Event {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		f := l.next(tb, time.Until(deadline))
		if f == nil {
			tb.Fatalf("%s: connection ended (%v) before %s", l.name, l.err, what)
		}
		if ev := f.GetEvent(); ev != nil && ok(ev) {
			return ev
		}
	}
}

// noEvent fails if an event matching bad arrives within d.
func (l *live) noEvent(tb testing.TB, d time.Duration, what string, bad func(*chatv1.Event) bool) {
	tb.Helper()
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case f := <-l.frames:
			if ev := f.GetEvent(); ev != nil && bad(ev) {
				tb.Fatalf("%s: got %s: %v", l.name, what, ev)
			}
		case <-t.C:
			return
		}
	}
}

// message waits for the next message_created event of room.
func (l *live) message(tb testing.TB, room int64) *chatv1.Message {
	tb.Helper()
	return l.waitEvent(tb, fmt.Sprintf("a message in room %d", room), func(ev *chatv1.Event) bool {
		return ev.GetRoomId() == room && ev.GetMessageCreated() != nil
	}).GetMessageCreated().GetMessage()
}

// messagesUpTo collects room's messages until seq last arrives, failing on
// any other frame kind that is not presence or typing.
func (l *live) messagesUpTo(tb testing.TB, room, last int64, d time.Duration) []int64 {
	tb.Helper()
	deadline := time.Now().Add(d)
	var seqs []int64
	for len(seqs) == 0 || seqs[len(seqs)-1] < last {
		f := l.next(tb, time.Until(deadline))
		if f == nil {
			tb.Fatalf("%s: connection ended (%v) after %d messages, last %v", l.name, l.err, len(seqs), tail(seqs))
		}
		ev := f.GetEvent()
		switch {
		case f.GetError() != nil:
			tb.Fatalf("%s: error frame %v after %d messages", l.name, f.GetError(), len(seqs))
		case ev.GetTooFarBehind() != nil:
			tb.Fatalf("%s: unexpected %v", l.name, ev)
		case ev.GetRoomId() == room && ev.GetMessageCreated() != nil:
			seqs = append(seqs, ev.GetSeq())
		}
	}
	return seqs
}

func tail(s []int64) []int64 { return s[max(0, len(s)-5):] }

// wantSeqs fails unless got is exactly from, from+1, …, to.
func wantSeqs(tb testing.TB, got []int64, from, to int64) {
	tb.Helper()
	if int64(len(got)) != to-from+1 {
		tb.Errorf("got %d messages, want %d (seqs %d..%d)", len(got), to-from+1, from, to)
	}
	for i, s := range got {
		if want := from + int64(i); s != want {
			tb.Fatalf("message %d has seq %d, want %d (gap or duplicate); around it: %v", i, s, want, got[max(0, i-3):min(len(got), i+4)])
		}
	}
}

// ended waits until the connection ends and returns the last error frame
// it received, if any.
func (l *live) ended(tb testing.TB, d time.Duration) *chatv1.Error {
	tb.Helper()
	deadline := time.Now().Add(d)
	var last *chatv1.Error
	for {
		t := time.NewTimer(time.Until(deadline))
		select {
		case f := <-l.frames:
			t.Stop()
			if f.GetError() != nil {
				last = f.GetError()
			}
		case <-l.done:
			t.Stop()
			for {
				select {
				case f := <-l.frames:
					if f.GetError() != nil {
						last = f.GetError()
					}
				default:
					return last
				}
			}
		case <-t.C:
			tb.Fatalf("%s: still open after %s", l.name, d)
		}
	}
}

// closeCode is the WebSocket close code the connection ended with, or 0.
func (l *live) closeCode() int {
	var ce *websocket.CloseError
	if errors.As(l.err, &ce) {
		return ce.Code
	}
	return 0
}

// sendAll sends n messages to room from c over workers concurrent callers
// and returns the first error.
func sendAll(c *testenv.Client, room int64, n, workers int, tag string) error {
	return sendPadded(c, room, n, workers, tag, "")
}

// sendPadded is sendAll with pad appended to every body.
func sendPadded(c *testenv.Client, room int64, n, workers int, tag, pad string) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	per := n / workers
	for w := range workers {
		count := per
		if w == workers-1 {
			count = n - per*(workers-1)
		}
		wg.Go(func() {
			for i := range count {
				_, err := c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{
					RoomId: room, Body: fmt.Sprintf("%s %d/%d %s", tag, w, i, pad), ClientMsgId: fmt.Sprintf("%s-%d-%d", tag, w, i),
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// lastSeq is room's newest seq as c sees it.
func lastSeq(tb testing.TB, c *testenv.Client, room int64) int64 {
	tb.Helper()
	res, err := c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{})
	if err != nil {
		tb.Fatalf("ListRooms: %v", err)
	}
	for _, r := range res.GetRooms() {
		if r.GetId() == room {
			return r.GetLastSeq()
		}
	}
	tb.Fatalf("room %d not listed", room)
	return 0
}

// online reports whether uid is online in room according to ListMembers.
func online(tb testing.TB, c *testenv.Client, room, uid int64) bool {
	tb.Helper()
	res, err := c.Rooms.ListMembers(context.Background(), &chatv1.ListMembersRequest{RoomId: room})
	if err != nil {
		tb.Fatalf("ListMembers: %v", err)
	}
	for _, m := range res.GetMembers() {
		if m.GetUser().GetId() == uid {
			return m.GetOnline()
		}
	}
	tb.Fatalf("user %d is not a member of room %d", uid, room)
	return false
}

func isPresence(uid int64, on bool) func(*chatv1.Event) bool {
	return func(ev *chatv1.Event) bool {
		p := ev.GetPresenceChanged()
		return p != nil && p.GetUserId() == uid && p.GetOnline() == on
	}
}

func isAnyPresence(uid int64) func(*chatv1.Event) bool {
	return func(ev *chatv1.Event) bool {
		p := ev.GetPresenceChanged()
		return p != nil && p.GetUserId() == uid
	}
}
