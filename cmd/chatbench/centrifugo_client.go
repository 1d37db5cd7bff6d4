package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/gorilla/websocket"
)

// The shapes of Centrifugo's JSON client protocol (centrifugal/protocol,
// client.proto) with the fields a client acts on. A WebSocket message
// holds one or more of them, one per line.
type (
	cfCommand struct {
		ID        uint32              `json:"id"`
		Connect   *cfConnectRequest   `json:"connect,omitempty"`
		Subscribe *cfSubscribeRequest `json:"subscribe,omitempty"`
	}
	cfConnectRequest struct {
		Name string `json:"name,omitempty"`
	}
	cfSubscribeRequest struct {
		Channel string `json:"channel"`
	}

	// cfReply is a reply to a command (its id set) or a push; one with
	// nothing set is the server's ping.
	cfReply struct {
		ID        uint32             `json:"id"`
		Error     *cfError           `json:"error"`
		Push      *cfPush            `json:"push"`
		Connect   *cfConnectResult   `json:"connect"`
		Subscribe *cfSubscribeResult `json:"subscribe"`
	}
	cfError struct {
		Code      uint32 `json:"code"`
		Message   string `json:"message"`
		Temporary bool   `json:"temporary"`
	}
	cfConnectResult struct {
		Client  string `json:"client"`
		Version string `json:"version"`
		Ping    uint32 `json:"ping"` // seconds between the server's pings
		Pong    bool   `json:"pong"` // the server wants each ping answered
	}
	// cfSubscribeResult has a stream position when the channel keeps
	// history and the subscription is positioned or recoverable.
	cfSubscribeResult struct {
		Epoch  string `json:"epoch"`
		Offset uint64 `json:"offset"`
	}
	cfPush struct {
		Channel     string         `json:"channel"`
		Pub         *cfPublication `json:"pub"`
		Join        *cfClientEvent `json:"join"`
		Leave       *cfClientEvent `json:"leave"`
		Unsubscribe *cfCodeReason  `json:"unsubscribe"`
		Disconnect  *cfCodeReason  `json:"disconnect"`
	}
	cfPublication struct {
		Data benchData `json:"data"`
		// Offset numbers a channel's publications when it keeps history;
		// 0 (absent) when it does not.
		Offset uint64            `json:"offset"`
		Info   *cfClientInfo     `json:"info"`
		Tags   map[string]string `json:"tags"`
	}
	cfClientEvent struct {
		Info cfClientInfo `json:"info"`
	}
	cfClientInfo struct {
		User   string `json:"user"`
		Client string `json:"client"`
	}
	cfCodeReason struct {
		Code   uint32 `json:"code"`
		Reason string `json:"reason"`
	}
)

// Ids of the commands a client sends: connect first, then one subscribe
// per channel.
const (
	cfConnectID        = 1
	cfFirstSubscribeID = 2
)

// cfChannel is what a client saw of one subscribed channel.
type cfChannel struct {
	// offset is the last publication offset seen (offsetKnown: one was,
	// or the subscribe reply gave the stream's position).
	offset      int64
	offsetKnown bool
	// sent is the last number seen per sender, for channels without
	// history, whose publications carry no offset.
	sent map[senderKey]int64
}

// cfClient is one client of Centrifugo's bidirectional JSON WebSocket.
type cfClient struct {
	group
	socket
	channels map[string]*cfChannel
	pong     bool     // answer the server's pings
	early    [][]byte // lines that came during the handshake, not replies to it
}

var _ conn = (*cfClient)(nil)

// dialCentrifugo opens a client, connects, and subscribes to channels,
// waiting for each reply.
func dialCentrifugo(ctx context.Context, wsURL string, channels []string) (*cfClient, error) {
	ws, err := openSocket(ctx, wsURL, nil, nil)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(dialTimeout)
	_ = ws.SetReadDeadline(deadline)
	_ = ws.SetWriteDeadline(deadline)
	c := &cfClient{socket: socket{conn: ws}, channels: make(map[string]*cfChannel, len(channels))}
	if err := c.handshake(channels); err != nil {
		ws.Close()
		return nil, err
	}
	return c, nil
}

// handshake sends connect, then the subscribes once connect is answered,
// as client SDKs do.
func (c *cfClient) handshake(channels []string) error {
	if err := c.command(cfCommand{ID: cfConnectID, Connect: &cfConnectRequest{Name: "chatbench"}}); err != nil {
		return err
	}
	replies, err := c.await(1)
	if err != nil {
		return err
	}
	connect := replies[cfConnectID]
	if connect.Error != nil || connect.Connect == nil {
		return fmt.Errorf("connect refused: %s", describe(connect.Error))
	}
	c.pong = connect.Connect.Pong
	names := make(map[uint32]string, len(channels))
	id := uint32(cfFirstSubscribeID)
	for _, name := range channels {
		c.channels[name] = &cfChannel{sent: map[senderKey]int64{}}
		names[id] = name
		if err := c.command(cfCommand{ID: id, Subscribe: &cfSubscribeRequest{Channel: name}}); err != nil {
			return err
		}
		id++
	}
	if replies, err = c.await(len(channels)); err != nil {
		return err
	}
	for id, name := range names {
		r := replies[id]
		if r.Error != nil || r.Subscribe == nil {
			return fmt.Errorf("subscribe %s refused: %s", name, describe(r.Error))
		}
		if r.Subscribe.Epoch != "" {
			ch := c.channels[name]
			ch.offset, ch.offsetKnown = int64(r.Subscribe.Offset), true
		}
	}
	return nil
}

func describe(e *cfError) string {
	if e == nil {
		return "no result"
	}
	return fmt.Sprintf("%d %s", e.Code, e.Message)
}

func (c *cfClient) command(cmd cfCommand) error {
	data, err := json.Marshal(cmd)
	if err == nil {
		err = c.conn.WriteMessage(websocket.TextMessage, data)
	}
	if err != nil {
		return fmt.Errorf("write command: %w", err)
	}
	return nil
}

// await reads until n replies with ids have come, and returns them by id.
// Other lines are kept for the read loop.
func (c *cfClient) await(n int) (map[uint32]cfReply, error) {
	replies := make(map[uint32]cfReply, n)
	for len(replies) < n {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("read reply: %w", err)
		}
		for line := range lines(data) {
			var r cfReply
			if err := json.Unmarshal(line, &r); err != nil {
				return nil, fmt.Errorf("undecodable reply %.200s", line)
			}
			if r.ID == 0 {
				c.early = append(c.early, bytes.Clone(line))
				continue
			}
			replies[r.ID] = r
		}
	}
	return replies, nil
}

// lines yields the non-empty lines of a message: Centrifugo packs several
// replies and pushes into one WebSocket message, separated by newlines.
func lines(data []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for len(data) > 0 {
			var line []byte
			line, data, _ = bytes.Cut(data, []byte{'\n'})
			if len(line) > 0 && !yield(line) {
				return
			}
		}
	}
}

// protocol is "": -protocol is Parley's, Centrifugo's clients speak its
// JSON protocol.
func (c *cfClient) protocol() string { return "" }

func (c *cfClient) read(t *tally, deadline time.Time) {
	now := time.Now()
	for _, line := range c.early {
		c.line(t, line, now)
	}
	c.early = nil
	c.readLoop(t, c.group, deadline, func(data []byte) { c.handle(t, data) })
}

// handle decodes and counts every line of one message.
func (c *cfClient) handle(t *tally, data []byte) {
	now := time.Now()
	for line := range lines(data) {
		c.line(t, line, now)
	}
}

// pingAnswerTimeout bounds the write of a pong.
const pingAnswerTimeout = 5 * time.Second

func (c *cfClient) line(t *tally, line []byte, now time.Time) {
	var r cfReply
	if err := json.Unmarshal(line, &r); err != nil {
		c.wsError(t, "undecodable frame")
		return
	}
	switch p := r.Push; {
	case r.Error != nil:
		c.wsError(t, "centrifugo error reply: "+describe(r.Error))
	case p != nil && p.Pub != nil:
		c.publication(t, p.Channel, p.Pub, now)
	case p != nil && p.Unsubscribe != nil:
		c.wsError(t, fmt.Sprintf("unsubscribe push: %d %s", p.Unsubscribe.Code, p.Unsubscribe.Reason))
	case p != nil && p.Disconnect != nil:
		c.wsError(t, fmt.Sprintf("disconnect push: %d %s", p.Disconnect.Code, p.Disconnect.Reason))
	case p != nil || r.ID != 0:
		t.otherEvents.Add(1)
	default: // an empty line, {}, is the server's ping
		if c.pong {
			_ = c.conn.SetWriteDeadline(now.Add(pingAnswerTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, []byte(`{}`)); err != nil {
				c.wsError(t, "write pong: "+shortErr(err))
			}
		}
	}
}

// publication counts one delivery: by the channel's offset when it keeps
// history, else by the sender's own numbering in the body.
func (c *cfClient) publication(t *tally, channel string, pub *cfPublication, now time.Time) {
	ch := c.channels[channel]
	if ch == nil {
		c.wsError(t, "publication in a channel not subscribed to")
		return
	}
	if pub.Offset > 0 {
		ch.offset = c.deliver(t, ch.offset, ch.offsetKnown, int64(pub.Offset), pub.Data.Body, now)
		ch.offsetKnown = true
		return
	}
	sender, k, ok := bodySeq(pub.Data.Body)
	if !ok {
		t.badBodies.Add(1)
		return
	}
	last, known := ch.sent[sender]
	if !known {
		// Every client subscribes before the first send: a sender's first
		// publication it sees must be number 0.
		last, known = -1, true
	}
	ch.sent[sender] = c.deliver(t, last, known, k, pub.Data.Body, now)
}
