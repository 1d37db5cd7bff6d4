package ws

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
)

// errInvalidUTF8 is a text frame that is not UTF-8, which RFC 6455 (8.1)
// says must fail the connection; the client is told why first.
var errInvalidUTF8 error = &chat.Error{Kind: chat.ErrInvalid,
	Msg: "a text frame was not valid UTF-8; text frames must be UTF-8 (RFC 6455), or send binary protobuf frames"}

// read reads and validates one client frame.
func (c *conn) read() (*chatv1.ClientFrame, error) {
	kind, data, err := c.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if kind == websocket.TextMessage && !utf8.Valid(data) {
		return nil, errInvalidUTF8
	}
	return decodeFrame(kind == websocket.BinaryMessage, data, c.h.cfg.Validate)
}

// decodeFrame parses a client frame, protojson in text frames and binary
// protobuf in binary ones, and checks it with validate. Every failure is a
// badFrame, which the connection answers and survives.
func decodeFrame(binary bool, data []byte, validate func(proto.Message) error) (*chatv1.ClientFrame, error) {
	var frame chatv1.ClientFrame
	var err error
	if binary {
		err = proto.Unmarshal(data, &frame)
	} else {
		err = protojson.Unmarshal(data, &frame)
	}
	if err != nil {
		return nil, &badFrame{fmt.Errorf("malformed frame: %v", err)}
	}
	if err := validate(&frame); err != nil {
		return nil, &badFrame{err}
	}
	return &frame, nil
}

// badFrame is a frame the connection survives: it is answered with an
// invalid_argument error.
type badFrame struct{ err error }

func (b *badFrame) Error() string { return b.err.Error() }

// Unwrap makes a bad frame invalid input, whatever failed.
func (b *badFrame) Unwrap() error { return chat.ErrInvalid }

// isBad reports whether err is a frame the connection survives.
func isBad(err error) bool {
	var bad *badFrame
	return errors.As(err, &bad)
}
