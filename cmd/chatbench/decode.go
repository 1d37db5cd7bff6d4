package main

import (
	"bytes"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// frameKind is what a server frame is, as far as a run's counts go.
type frameKind int

const (
	frameUndecodable frameKind = iota
	frameMessage
	frameOtherEvent
	framePong
	frameTooFarBehind
	frameError
	frameReconnect
	frameBadBody // a message event whose room, seq or body could not be read
)

// frame is what the counts need of one server frame.
type frame struct {
	kind      frameKind
	room, seq int64
	body      string
	code      string // of an error frame
}

// Decoders of server frames: -client fast reads message events with a few
// byte scans, so the load tool leaves the CPU to the server; -client
// generic decodes every frame in full into the schema's types, as a
// browser or a bot written against the schema does, so the figures are
// what such clients see.
const (
	clientFast    = "fast"
	clientGeneric = "generic"
)

func (c *wsClient) decode(data []byte) frame {
	if c.generic || !bytes.HasPrefix(data, prefixEvent) {
		return decodeGeneric(data)
	}
	return decodeFast(data)
}

// decodeGeneric unmarshals the whole frame with protojson.
func decodeGeneric(data []byte) frame {
	var f chatv1.ServerFrame
	if err := protojson.Unmarshal(data, &f); err != nil {
		return frame{kind: frameUndecodable}
	}
	switch {
	case f.GetEvent() != nil:
		return eventFrame(f.GetEvent())
	case f.GetPong() != nil:
		return frame{kind: framePong}
	case f.GetError() != nil:
		return frame{kind: frameError, code: f.GetError().GetCode()}
	case f.GetReconnect() != nil:
		return frame{kind: frameReconnect}
	}
	return frame{kind: frameOtherEvent}
}

func eventFrame(ev *chatv1.Event) frame {
	switch {
	case ev.GetMessageCreated() != nil:
		m := ev.GetMessageCreated().GetMessage()
		return frame{kind: frameMessage, room: ev.GetRoomId(), seq: ev.GetSeq(), body: m.GetBody()}
	case ev.GetTooFarBehind() != nil:
		return frame{kind: frameTooFarBehind}
	}
	return frame{kind: frameOtherEvent}
}

var (
	keyMessageCreated = []byte(`"messageCreated"`)
	keyRoomID         = []byte(`"roomId"`)
	keySeq            = []byte(`"seq"`)
	keyBody           = []byte(`"body"`)
	prefixEvent       = []byte(`{"event"`)
)

// decodeFast reads an event frame's room, seq and body by scanning for
// their keys; protojson puts the event's room id and seq before its payload.
func decodeFast(data []byte) frame {
	mc := bytes.Index(data, keyMessageCreated)
	if mc < 0 {
		if bytes.Contains(data, []byte(`"tooFarBehind"`)) {
			return frame{kind: frameTooFarBehind}
		}
		return frame{kind: frameOtherEvent}
	}
	room, ok1 := stringField(data[:mc], keyRoomID)
	seq, ok2 := stringField(data[:mc], keySeq)
	if !ok1 || !ok2 {
		return frame{kind: frameBadBody}
	}
	body, _ := stringField(data[mc:], keyBody) // unreadable: counted as a bad body
	roomID, _ := strconv.ParseInt(room, 10, 64)
	n, _ := strconv.ParseInt(seq, 10, 64)
	return frame{kind: frameMessage, room: roomID, seq: n, body: body}
}

// stringField finds "key": "value" (protojson may put a space after the
// colon) and returns value, which must not contain escapes.
func stringField(data, key []byte) (string, bool) {
	i := bytes.Index(data, key)
	if i < 0 {
		return "", false
	}
	rest := bytes.TrimLeft(data[i+len(key):], " ")
	if len(rest) == 0 || rest[0] != ':' {
		return "", false
	}
	rest = bytes.TrimLeft(rest[1:], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return "", false
	}
	return string(rest[1 : 1+end]), true
}
