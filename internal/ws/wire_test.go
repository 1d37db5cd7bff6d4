package ws

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// TestBatchDecodesAsServerFrames: a batch joined from frames encoded one by
// one is the ServerFrames of those frames, in order, in both encodings.
func TestBatchDecodesAsServerFrames(t *testing.T) {
	frames := []*chatv1.ServerFrame{
		{Kind: &chatv1.ServerFrame_Ready{Ready: &chatv1.Ready{SessionId: "s1"}}},
		{Kind: &chatv1.ServerFrame_Event{Event: &chatv1.Event{RoomId: 7, Seq: 1}}},
		{Kind: &chatv1.ServerFrame_Event{Event: &chatv1.Event{RoomId: 7, Seq: 2}}},
		{Kind: &chatv1.ServerFrame_Pong{Pong: &chatv1.Pong{}}},
	}
	for _, sp := range []string{subprotoBatchJSON, subprotoBatchProto} {
		p := protocolOf(sp)
		var encoded [][]byte
		for _, f := range frames {
			b, err := p.encode(f)
			if err != nil {
				t.Fatal(err)
			}
			encoded = append(encoded, b)
		}
		var msg bytes.Buffer
		if err := p.writeFrames(&msg, encoded); err != nil {
			t.Fatal(err)
		}
		var got chatv1.ServerFrames
		unmarshal := protojson.Unmarshal
		if p.binary {
			unmarshal = proto.Unmarshal
		}
		if err := unmarshal(msg.Bytes(), &got); err != nil {
			t.Fatalf("%s: %q does not decode as ServerFrames: %v", sp, msg.Bytes(), err)
		}
		if want := (&chatv1.ServerFrames{Frames: frames}); !proto.Equal(want, &got) {
			t.Errorf("%s: batch decodes as %v, want %v", sp, &got, want)
		}
	}
}

// TestProtocolOf: each subprotocol's encoding and batching; none is JSON,
// one frame per message.
func TestProtocolOf(t *testing.T) {
	for sp, want := range map[string][2]bool{
		"": {false, false}, subprotoJSON: {false, false}, subprotoProto: {true, false},
		subprotoBatchJSON: {false, true}, subprotoBatchProto: {true, true},
	} {
		if p := protocolOf(sp); p.binary != want[0] || p.batch != want[1] {
			t.Errorf("protocolOf(%q) = binary %v batch %v, want %v %v", sp, p.binary, p.batch, want[0], want[1])
		}
	}
}
