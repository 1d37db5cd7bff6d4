package ws

import (
	"encoding/binary"
	"io"
	"strings"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/protoconv"
	"github.com/parley-chat/parley/internal/push"
)

// The WebSocket subprotocols a client may ask for (event.proto says what
// each message holds), the server's preference first. A client that asks
// for none gets parley.v1.json, as clients always have.
const (
	subprotoBatchProto = "parley.v1.batch.proto"
	subprotoBatchJSON  = "parley.v1.batch.json"
	subprotoProto      = "parley.v1.proto"
	subprotoJSON       = "parley.v1.json"
)

var subprotocols = []string{subprotoBatchProto, subprotoBatchJSON, subprotoProto, subprotoJSON}

// protocol is how one connection's server frames are written.
type protocol struct {
	// binary: protobuf in binary messages; else protojson in text ones.
	binary bool
	// batch: each message is a ServerFrames of every frame that waited.
	batch bool
	// key and encodeEvent give an event's ServerFrame in this encoding,
	// cached in the push.Item for every connection that shares it.
	key         push.WireKey
	encodeEvent func(chat.Event) (any, error)
}

// protocolOf is the protocol of the negotiated subprotocol ("" for none).
func protocolOf(subprotocol string) protocol {
	p := protocol{
		binary: strings.HasSuffix(subprotocol, ".proto"),
		batch:  strings.Contains(subprotocol, ".batch."),
		key:    push.WireWebSocket, encodeEvent: encodeEventJSON,
	}
	if p.binary {
		p.key, p.encodeEvent = push.WireWebSocketProto, encodeEventProto
	}
	return p
}

func (p protocol) messageType() int {
	if p.binary {
		return websocket.BinaryMessage
	}
	return websocket.TextMessage
}

// encode is f in the protocol's encoding.
func (p protocol) encode(f *chatv1.ServerFrame) ([]byte, error) {
	if p.binary {
		return proto.Marshal(f)
	}
	return protojson.Marshal(f)
}

func eventFrame(e chat.Event) *chatv1.ServerFrame {
	return &chatv1.ServerFrame{Kind: &chatv1.ServerFrame_Event{Event: protoconv.Event(e)}}
}

func encodeEventJSON(e chat.Event) (any, error)  { return protojson.Marshal(eventFrame(e)) }
func encodeEventProto(e chat.Event) (any, error) { return proto.Marshal(eventFrame(e)) }

// writeFrames writes encoded ServerFrames as one ServerFrames message,
// joined as they are: no frame is encoded again for the batch.
func (p protocol) writeFrames(w io.Writer, frames [][]byte) error {
	if p.binary {
		return writeProtoFrames(w, frames)
	}
	return writeJSONFrames(w, frames)
}

// writeJSONFrames writes {"frames":[f1,f2,…]}, ServerFrames in protojson.
func writeJSONFrames(w io.Writer, frames [][]byte) error {
	sep := []byte(`{"frames":[`)
	for _, f := range frames {
		if _, err := w.Write(sep); err != nil {
			return err
		}
		if _, err := w.Write(f); err != nil {
			return err
		}
		sep = []byte(",")
	}
	_, err := w.Write([]byte("]}"))
	return err
}

// framesField is ServerFrames.frames' field number: a protobuf message is
// its fields one after the other, so each frame with its tag and length is
// one element of the repeated field.
const framesField protowire.Number = 1

// writeProtoFrames writes ServerFrames in protobuf.
func writeProtoFrames(w io.Writer, frames [][]byte) error {
	var head [1 + binary.MaxVarintLen64]byte // the one-byte tag, then the length
	for _, f := range frames {
		h := protowire.AppendTag(head[:0], framesField, protowire.BytesType)
		h = protowire.AppendVarint(h, uint64(len(f)))
		if _, err := w.Write(h); err != nil {
			return err
		}
		if _, err := w.Write(f); err != nil {
			return err
		}
	}
	return nil
}
