package main

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
)

// Values of -protocol: how chatd is asked to write its server frames (the
// WebSocket subprotocols of api/chat/v1/event.proto, without their
// "parley.v1." prefix). json asks for no subprotocol, as clients always
// have, so a chatd from before subprotocols is loaded just the same.
const (
	protocolJSON       = "json"
	protocolProto      = "proto"
	protocolBatchJSON  = "batch.json"
	protocolBatchProto = "batch.proto"
)

var protocols = []string{protocolJSON, protocolProto, protocolBatchJSON, protocolBatchProto}

const subprotocolPrefix = "parley.v1."

// subprotocols is what a client of -protocol p asks for.
func subprotocols(p string) []string {
	if p == protocolJSON {
		return nil
	}
	return []string{subprotocolPrefix + p}
}

// wire is how one connection's server frames come: what the server chose,
// which need not be what the client asked for.
type wire struct {
	name   string // the -protocol value in effect
	binary bool   // protobuf in binary messages; else protojson in text ones
	batch  bool   // every message a ServerFrames; else one ServerFrame
}

// wireOf is the wire of the subprotocol the server chose. None ("") means
// single JSON frames: the server was asked for none, or knows none.
func wireOf(subprotocol string) (wire, error) {
	name, ok := strings.CutPrefix(subprotocol, subprotocolPrefix)
	if subprotocol == "" {
		name, ok = protocolJSON, true
	}
	if !ok || !slices.Contains(protocols, name) {
		return wire{}, fmt.Errorf("the server chose subprotocol %q, which chatbench does not speak", subprotocol)
	}
	return wire{name: name, binary: strings.HasSuffix(name, "proto"), batch: strings.HasPrefix(name, "batch.")}, nil
}

// unmarshal decodes one WebSocket message in full into its server frames,
// in order.
func (w wire) unmarshal(data []byte) ([]*chatv1.ServerFrame, error) {
	unmarshal := protojson.Unmarshal
	if w.binary {
		unmarshal = proto.Unmarshal
	}
	if w.batch {
		var fs chatv1.ServerFrames
		err := unmarshal(data, &fs)
		return fs.GetFrames(), err
	}
	var f chatv1.ServerFrame
	if err := unmarshal(data, &f); err != nil {
		return nil, err
	}
	return []*chatv1.ServerFrame{&f}, nil
}
