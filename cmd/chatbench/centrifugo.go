package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Centrifugo's side of a run.
const (
	// defaultCentrifugoKey is the API key of the configuration that
	// -centrifugo-config prints; the target is a loopback address.
	defaultCentrifugoKey = "chatbench"
	// maxAPIAnswerBytes bounds what is read of one API answer.
	maxAPIAnswerBytes = 64 << 10
)

// centrifugo is Centrifugo v6: clients on its bidirectional JSON WebSocket
// without a token (client.insecure), one channel per room, sends through
// its HTTP API's publish.
type centrifugo struct {
	cfg      config
	hc       *http.Client
	run      string
	wsURL    string
	apiURL   string
	channels []string // channel of room i
}

var _ target = (*centrifugo)(nil)

func newCentrifugo(cfg config, hc *http.Client, run string) *centrifugo {
	base := cfg.addrs[0]
	cf := &centrifugo{
		cfg: cfg, hc: hc, run: run,
		wsURL:  "ws" + strings.TrimPrefix(base, "http") + "/connection/websocket",
		apiURL: base + "/api",
	}
	for i := range cfg.rooms {
		cf.channels = append(cf.channels, roomName(cfg.prefix, cfg.rooms, i))
	}
	return cf
}

// prepare checks that the API answers and takes the key, so a wrong key
// fails the run at once rather than every send.
func (cf *centrifugo) prepare(ctx context.Context, _ func(string, ...any)) (setupResult, error) {
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	if err := cf.call(ctx, "info", []byte(`{}`)); err != nil {
		return setupResult{}, fmt.Errorf("the API of Centrifugo at %s: %w (start Centrifugo with the configuration chatbench -centrifugo-config prints, or pass its http_api.key as -centrifugo-api-key)", cf.apiURL, err)
	}
	return setupResult{}, nil
}

// roomsOf is client i's rooms: room i mod rooms, or every room for the
// members of every room.
func (cf *centrifugo) roomsOf(i int) []int64 {
	if i < cf.cfg.clients {
		return []int64{int64(i % cf.cfg.rooms)}
	}
	rooms := make([]int64, cf.cfg.rooms)
	for r := range rooms {
		rooms[r] = int64(r)
	}
	return rooms
}

func (cf *centrifugo) dial(ctx context.Context, i int) (conn, []int64, error) {
	rooms := cf.roomsOf(i)
	channels := make([]string, len(rooms))
	for j, r := range rooms {
		channels[j] = cf.channels[r]
	}
	c, err := dialCentrifugo(ctx, cf.wsURL, channels)
	if err != nil {
		return nil, nil, err
	}
	c.everywhere = i >= cf.cfg.clients
	return c, rooms, nil
}

// cfPublish is the body of Centrifugo's publish API call.
type cfPublish struct {
	Channel string    `json:"channel"`
	Data    benchData `json:"data"`
}

// benchData is the publication data chatbench sends: the same body as a
// Parley message, which carries the send's timestamp and number.
type benchData struct {
	Body string `json:"body"`
}

// send publishes sender's k-th message into the channel of its room: the
// room of client sender, as with Parley.
func (cf *centrifugo) send(ctx context.Context, sender, k int) (int64, time.Duration, error) {
	room := int64(sender % cf.cfg.rooms)
	t0 := time.Now()
	req, err := json.Marshal(cfPublish{Channel: cf.channels[room], Data: benchData{Body: body(cf.cfg.bodyBytes, t0, cf.run, sender, k)}})
	if err == nil {
		err = cf.call(ctx, "publish", req)
	}
	if err != nil {
		return room, 0, errors.New("publish: " + shortErr(err))
	}
	return room, time.Since(t0), nil
}

// call makes one server API call and reads its answer in full, so the
// keep-alive connection is reused. Centrifugo answers API errors with
// HTTP 200 and an error object.
func (cf *centrifugo) call(ctx context.Context, method string, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cf.apiURL+"/"+method, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", cf.cfg.apiKey)
	resp, err := cf.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswerBytes))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var out struct {
		Error *cfError `json:"error"`
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		return errors.New("undecodable answer")
	}
	if out.Error != nil {
		return fmt.Errorf("error %d %s", out.Error.Code, out.Error.Message)
	}
	return nil
}

func (cf *centrifugo) finish(*result, func(string, ...any)) {}

// centrifugoConfig is the configuration Centrifugo runs with for
// chatbench: the memory engine, the HTTP API with chatbench's key,
// clients that connect and subscribe without tokens (client.insecure,
// which skips only the connect and subscribe checks) to as many channels
// as a member of every room needs, and /health for start-up scripts.
// Everything else is Centrifugo's default.
func centrifugoConfig(cfg config) map[string]any {
	u, _ := url.Parse(cfg.addrs[0]) // validated
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 80
	}
	return map[string]any{
		"engine":      map[string]any{"type": "memory"},
		"http_server": map[string]any{"address": u.Hostname(), "port": port},
		"http_api":    map[string]any{"key": cfg.apiKey},
		"client":      map[string]any{"insecure": true, "channel_limit": maxRooms},
		"health":      map[string]any{"enabled": true},
		"log":         map[string]any{"level": "warn"},
		"usage_stats": map[string]any{"disabled": true},
	}
}

func writeCentrifugoConfig(w io.Writer, cfg config) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(centrifugoConfig(cfg))
}
