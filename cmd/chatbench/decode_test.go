package main

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

func messageFrame(room, seq int64, body string) *chatv1.ServerFrame {
	return &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Event{Event: &chatv1.Event{
		RoomId: room, Seq: seq,
		Kind: &chatv1.Event_MessageCreated{MessageCreated: &chatv1.MessageCreated{Message: &chatv1.Message{
			Id: 100 + seq, RoomId: room, Seq: seq, Body: body, ClientMsgId: "r1-0-0",
			Sender:    &chatv1.User{Id: 2, Username: "alice", DisplayName: "Alice"},
			CreatedAt: timestamppb.New(time.Unix(1_700_000_000, 0)),
		}}},
	}}}
}

func presenceFrame(room int64) *chatv1.ServerFrame {
	return &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Event{Event: &chatv1.Event{
		RoomId: room, Kind: &chatv1.Event_PresenceChanged{PresenceChanged: &chatv1.PresenceChanged{RoomId: room, UserId: 3, Online: true}},
	}}}
}

func tooFarBehindFrame(room int64) *chatv1.ServerFrame {
	return &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Event{Event: &chatv1.Event{
		RoomId: room, Kind: &chatv1.Event_TooFarBehind{TooFarBehind: &chatv1.TooFarBehind{RoomId: room, AfterSeq: 1, LastSeq: 900}},
	}}}
}

func errorFrame(code string) *chatv1.ServerFrame {
	return &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Error{Error: &chatv1.Error{Code: code, Message: `too slow, "really"`}}}
}

func readyFrame(cursors map[int64]int64) *chatv1.ServerFrame {
	r := &chatv1.Ready{User: &chatv1.User{Id: 2, Username: "alice"}, SessionId: "s1"}
	for room, after := range cursors {
		r.RoomIds = append(r.RoomIds, room)
		r.Cursors = append(r.Cursors, &chatv1.RoomCursor{RoomId: room, AfterSeq: after})
	}
	return &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Ready{Ready: r}}
}

// encodeMessage is one WebSocket message of the wire holding frames (one,
// unless the wire batches) as chatd writes it: a JSON batch joins each
// frame's own protojson, a protobuf batch is ServerFrames' encoding.
func encodeMessage(tb testing.TB, w wire, frames ...*chatv1.ServerFrame) []byte {
	tb.Helper()
	if !w.batch && len(frames) != 1 {
		tb.Fatalf("%d frames in one message of %s", len(frames), w.name)
	}
	var (
		out []byte
		err error
	)
	switch {
	case w.binary && w.batch:
		out, err = proto.Marshal(&chatv1.ServerFrames{Frames: frames})
	case w.binary:
		out, err = proto.Marshal(frames[0])
	case w.batch:
		parts := make([][]byte, len(frames))
		for i, f := range frames {
			if parts[i], err = protojson.Marshal(f); err != nil {
				break
			}
		}
		out = slices.Concat([]byte(`{"frames":[`), bytes.Join(parts, []byte(",")), []byte("]}"))
	default:
		out, err = protojson.Marshal(frames[0])
	}
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// encodeMessages is what chatd writes for the batches of frames: a
// message per batch, or per frame unless the wire batches.
func encodeMessages(tb testing.TB, w wire, batches ...[]*chatv1.ServerFrame) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, b := range batches {
		if w.batch {
			out = append(out, encodeMessage(tb, w, b...))
			continue
		}
		for _, f := range b {
			out = append(out, encodeMessage(tb, w, f))
		}
	}
	return out
}

func mustWire(tb testing.TB, protocol string) wire {
	tb.Helper()
	w, err := wireOf(subprotocolPrefix + protocol)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// decodeAll is every frame of the messages as the client decodes them.
func decodeAll(c *wsClient, msgs [][]byte) []frame {
	var got []frame
	for _, m := range msgs {
		c.decode(m, func(f frame) { got = append(got, f) })
	}
	return got
}

// TestDecodeEachProtocol: on every protocol and with either client, each
// frame comes out in the order the server wrote it: message events with
// their room, seq and body, other events, an error with its code; in a
// batch of events only (which the fast client scans) and in one that
// holds an error too.
func TestDecodeEachProtocol(t *testing.T) {
	b := body(60, time.Now(), "r1", 0, 0)
	events := []*chatv1.ServerFrame{messageFrame(7, 4, b), presenceFrame(1), messageFrame(7, 5, b), tooFarBehindFrame(7)}
	withError := []*chatv1.ServerFrame{errorFrame("resource_exhausted"), messageFrame(9, 1, b)}
	want := []frame{
		{kind: frameMessage, room: 7, seq: 4, body: b}, {kind: frameOtherEvent},
		{kind: frameMessage, room: 7, seq: 5, body: b}, {kind: frameTooFarBehind},
		{kind: frameError, code: "resource_exhausted"}, {kind: frameMessage, room: 9, seq: 1, body: b},
	}
	for _, protocol := range protocols {
		for _, client := range []string{clientFast, clientGeneric} {
			t.Run(protocol+"/"+client, func(t *testing.T) {
				w := mustWire(t, protocol)
				msgs := encodeMessages(t, w, events, withError)
				c := &wsClient{wire: w, generic: client == clientGeneric}
				if got := decodeAll(c, msgs); !slices.Equal(got, want) {
					t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
				}
			})
		}
	}
}

// TestFastBatchJSONReadsProtojson: the fast client's scan of a JSON batch
// reads the same frames as a full decode, on protojson's own encoding of
// a ServerFrames (which puts a random space after commas), with many
// message events of several rooms and other events between them.
func TestFastBatchJSONReadsProtojson(t *testing.T) {
	b := body(200, time.Now(), "r1", 3, 17)
	var frames []*chatv1.ServerFrame
	for i := range int64(40) {
		frames = append(frames, messageFrame(1+i%3, 10+i, b))
		if i%7 == 0 {
			frames = append(frames, presenceFrame(1+i%3))
		}
	}
	data, err := protojson.Marshal(&chatv1.ServerFrames{Frames: frames})
	if err != nil {
		t.Fatal(err)
	}
	w := mustWire(t, protocolBatchJSON)
	full := decodeAll(&wsClient{wire: w, generic: true}, [][]byte{data})
	fast := decodeAll(&wsClient{wire: w}, [][]byte{data})
	if len(full) != len(frames) || !slices.Equal(fast, full) {
		t.Errorf("fast scan read %d frames, full decode %d of %d:\nfast %+v\nfull %+v", len(fast), len(full), len(frames), fast, full)
	}
	for _, f := range fast {
		if f.kind == frameMessage && f.body != b {
			t.Fatalf("message body %q, want %q", f.body, b)
		}
	}
}

// TestDecodeUndecodable: a message that is not what the wire says counts
// as one undecodable frame, whichever the client.
func TestDecodeUndecodable(t *testing.T) {
	for _, protocol := range protocols {
		for _, client := range []string{clientFast, clientGeneric} {
			t.Run(protocol+"/"+client, func(t *testing.T) {
				c := &wsClient{wire: mustWire(t, protocol), generic: client == clientGeneric}
				got := decodeAll(c, [][]byte{[]byte("\xffnot a frame")})
				if want := []frame{{kind: frameUndecodable}}; !slices.Equal(got, want) {
					t.Errorf("decoded %+v, want %+v", got, want)
				}
			})
		}
	}
}

// TestHandleCountsBatch: the events of one batch count in order against
// their rooms' seqs.
func TestHandleCountsBatch(t *testing.T) {
	sent := time.Now().Add(-5 * time.Millisecond)
	b := body(60, sent, "r1", 0, 0)
	w := mustWire(t, protocolBatchProto)
	msg := encodeMessage(t, w, messageFrame(7, 4, b), messageFrame(8, 1, b), messageFrame(7, 5, b), messageFrame(7, 5, b), messageFrame(7, 8, b))
	var tl tally
	c := &wsClient{wire: w, last: map[int64]int64{7: 3, 8: 0}}
	c.handle(&tl, msg)
	if tl.delivered.Load() != 4 || tl.duplicates.Load() != 1 || tl.gaps.Load() != 2 || tl.e2e.count() != 4 {
		t.Errorf("delivered %d (want 4), duplicates %d (1), gaps %d (2: seq 6 and 7), e2e samples %d (4)",
			tl.delivered.Load(), tl.duplicates.Load(), tl.gaps.Load(), tl.e2e.count())
	}
}
