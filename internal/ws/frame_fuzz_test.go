package ws

import (
	"errors"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// FuzzDecodeFrame: any bytes a client sends as a frame either decode into a
// valid frame that survives a round trip, or fail as a badFrame the
// connection answers; nothing panics.
func FuzzDecodeFrame(f *testing.F) {
	for _, seed := range []string{
		`{"auth":{"token":"abc"}}`,
		`{"resume":{"rooms":[{"roomId":"1","afterSeq":"42"}]}}`,
		`{"typing":{"roomId":"1"}}`,
		`{"ping":{}}`,
		`{}`, `{"ping":{},"typing":{"roomId":"1"}}`, `{"typing":{"roomId":"-1"}}`,
		`[[[[[[[[[[`, "\xff\xfe", `{"auth":{"token":""}}`,
	} {
		f.Add(false, []byte(seed))
	}
	f.Add(true, []byte{0x22, 0x00})
	f.Add(true, []byte{0x0a, 0x05, 0x0a, 0x03, 'a', 'b', 'c'})
	v, err := protovalidate.New()
	if err != nil {
		f.Fatal(err)
	}
	validate := func(m proto.Message) error { return v.Validate(m) }
	f.Fuzz(func(t *testing.T, binary bool, data []byte) {
		frame, err := decodeFrame(binary, data, validate)
		if err != nil {
			var bad *badFrame
			if !errors.As(err, &bad) {
				t.Fatalf("decodeFrame failed with %T, not a badFrame: %v", err, err)
			}
			return
		}
		if frame.GetKind() == nil {
			t.Fatal("accepted a frame with no kind")
		}
		var again []byte
		if binary {
			again, err = proto.Marshal(frame)
		} else {
			again, err = protojson.Marshal(frame)
		}
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeFrame(binary, again, validate)
		if err != nil || !proto.Equal(frame, back) {
			t.Fatalf("round trip of %q: %v, %v", data, back, err)
		}
	})
}
