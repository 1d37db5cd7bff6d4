package main

import (
	"bytes"
	"slices"
	"strconv"

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

// decode hands each frame of one WebSocket message to each, in order.
// Binary messages are always decoded in full: proto.Unmarshal is cheap
// enough for the fast client too.
func (c *wsClient) decode(data []byte, each func(frame)) {
	switch {
	case c.generic || c.wire.binary:
		decodeFull(data, c.wire, each)
	case c.wire.batch:
		decodeFastBatch(data, each)
	case bytes.HasPrefix(data, prefixEvent):
		each(decodeFast(data))
	default:
		decodeFull(data, c.wire, each)
	}
}

// decodeFull unmarshals the whole message into the schema's types.
func decodeFull(data []byte, w wire, each func(frame)) {
	frames, err := w.unmarshal(data)
	if err != nil {
		each(frame{kind: frameUndecodable})
		return
	}
	for _, f := range frames {
		each(frameOf(f))
	}
}

func frameOf(f *chatv1.ServerFrame) frame {
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
	keyEvent          = []byte(`"event":`)
	prefixEventBatch  = []byte(`{"frames":[{"event":`)
	// keysNotEvent are the keys of the server frames other than events. No
	// field of an event has one of these names, and a quote in a string
	// comes escaped, so finding one means such a frame is in the message.
	keysNotEvent = [][]byte{[]byte(`"ready":`), []byte(`"error":`), []byte(`"pong":`), []byte(`"reconnect":`)}
)

// decodeFastBatch reads a batch of events, {"frames":[{"event":…},…]}, by
// cutting it before each event's key and scanning each piece as
// decodeFast does: only the ServerFrame has a field named event. A batch
// holding any other frame is decoded in full, which is rare: chatbench
// never pings.
func decodeFastBatch(data []byte, each func(frame)) {
	if !bytes.HasPrefix(data, prefixEventBatch) || slices.ContainsFunc(keysNotEvent, func(k []byte) bool { return bytes.Contains(data, k) }) {
		decodeFull(data, wire{batch: true}, each)
		return
	}
	rest := data[len(prefixEventBatch)-len(keyEvent):]
	for len(rest) > 0 {
		end := len(rest)
		if i := bytes.Index(rest[len(keyEvent):], keyEvent); i >= 0 {
			end = len(keyEvent) + i
		}
		each(decodeFast(rest[:end]))
		rest = rest[end:]
	}
}

// decodeFast reads an event frame's room, seq and body by scanning for
// their keys; protojson puts the event's room id and seq before its payload.
// data is one event frame, or the piece of a batch from one event's key to
// the next one's.
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
