package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Upper bounds that keep every loop of a run finite, whatever the flags say.
const (
	maxClients     = 100_000
	maxRooms       = 10_000
	maxEverywhere  = 1000
	maxDuration    = time.Hour
	maxDrain       = 10 * time.Minute
	maxBodyBytes   = 4000
	rpcTimeout     = 30 * time.Second
	dialTimeout    = 15 * time.Second
	closeTimeout   = 10 * time.Second
	progressEvery  = time.Second
	minBodyBytes   = 48 // room for the timestamp and ids
	setupAttempts  = 3
	defaultAddr    = "http://127.0.0.1:8080"
	passwordPrefix = "chatbench-password-"
)

// Servers a run can load: chatd, or Centrifugo as the bar to beat.
const (
	targetParley     = "parley"
	targetCentrifugo = "centrifugo"
)

// config is every setting of a run, from flags.
type config struct {
	addrs        []string // base URLs; WebSocket clients are spread over them
	allowRemote  bool
	clients      int
	users        int // distinct users; client i is user i mod users
	rooms        int
	everywhere   int // clients of users of their own that are members of every room
	senders      int
	rate         float64 // total sends per second, 0 = as fast as possible
	duration     time.Duration
	settle       time.Duration
	drain        time.Duration
	bodyBytes    int
	prefix       string
	tokenFile    string
	pids         []int
	jsonOut      bool
	h2c          bool
	sendJSON     bool // Parley's sends in Connect's JSON codec, as browsers send
	dialWorkers  int
	setupWorkers int
	progress     bool
	client       string // how frames are decoded: clientFast or clientGeneric
	protocol     string // how chatd is asked to write frames: one of protocols
	target       string // targetParley or targetCentrifugo
	apiKey       string // Centrifugo's http_api.key
	printConfig  bool   // print the Centrifugo configuration for these flags and exit
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	var addrs, pids string
	fs := flag.NewFlagSet("chatbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&addrs, "addr", defaultAddr, "chatd base URL; a comma-separated list spreads the WebSocket clients over several processes")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow targets that are not loopback addresses")
	fs.IntVar(&c.clients, "clients", 200, "WebSocket clients, one user each")
	fs.IntVar(&c.users, "users", 0, "distinct users (default -clients); client i logs in as user i mod users, so set chatd's PARLEY_MAX_CONNS_PER_USER to at least clients/users")
	fs.IntVar(&c.rooms, "rooms", 4, "rooms; client i joins room i mod rooms")
	fs.IntVar(&c.everywhere, "everywhere", 0, "extra clients, each a user of its own that is a member of every room (as bots and moderators are), so each receives every message; reported apart too")
	fs.IntVar(&c.senders, "senders", 4, "clients that also send (one request in flight each); 0 measures idle connections")
	fs.Float64Var(&c.rate, "rate", 0, "total sends per second over all senders; 0 sends as fast as acknowledgements come back")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long the senders send (or idle connections are held)")
	fs.DurationVar(&c.settle, "settle", 2*time.Second, "pause after connecting, before measuring idle memory and sending")
	fs.DurationVar(&c.drain, "drain", 10*time.Second, "how long to wait for outstanding deliveries after the last send")
	fs.IntVar(&c.bodyBytes, "body-bytes", 64, "message body size")
	fs.StringVar(&c.prefix, "prefix", "bench", "prefix of the users' and rooms' names, so runs can reuse them")
	fs.StringVar(&c.tokenFile, "tokens", "", "file caching the users' tokens between runs (default $TMPDIR/chatbench-<prefix>.json)")
	fs.StringVar(&pids, "pid", "", "comma-separated pids of the chatd processes, for RSS and CPU; found by port when empty")
	fs.BoolVar(&c.jsonOut, "json", false, "print the result as JSON instead of a table")
	fs.BoolVar(&c.h2c, "h2c", false, "send over cleartext HTTP/2 instead of an HTTP/1.1 keep-alive pool")
	fs.BoolVar(&c.sendJSON, "send-json", false, "call SendMessage with Connect's JSON codec, as the web app and most generic clients do, instead of binary protobuf (Centrifugo's API is JSON either way)")
	fs.IntVar(&c.dialWorkers, "dial-workers", 32, "WebSocket connections opened in parallel")
	fs.IntVar(&c.setupWorkers, "setup-workers", 8, "users registered, logged in or joined in parallel")
	fs.BoolVar(&c.progress, "progress", true, "print a live progress line on stderr")
	fs.StringVar(&c.client, "client", clientFast, "how clients read frames: fast (byte scans for message events, leaving the CPU to the server) or generic (every frame decoded in full with protojson into the schema's types, as a browser or a bot does); Centrifugo's frames are always decoded in full, so -target centrifugo implies generic")
	fs.StringVar(&c.protocol, "protocol", protocolJSON, "how chatd is asked to write server frames: json (no subprotocol: one protojson frame per text message, as always), proto (parley.v1.proto: one protobuf frame per binary message), batch.json or batch.proto (parley.v1.batch.*: every frame that waited in one message); a chatd that knows none of them writes json, and the result says which protocol was in effect")
	fs.StringVar(&c.target, "target", targetParley, "server at -addr: parley (chatd) or centrifugo (Centrifugo v6 started with the configuration -centrifugo-config prints: clients connect to /connection/websocket without a token, as its client.insecure mode allows, and subscribe to channels named like the rooms; senders publish through its HTTP API; -users, -tokens and -setup-workers do not apply)")
	fs.StringVar(&c.apiKey, "centrifugo-api-key", defaultCentrifugoKey, "Centrifugo's http_api.key, sent as X-API-Key with each publish")
	fs.BoolVar(&c.printConfig, "centrifugo-config", false, "print the Centrifugo configuration (JSON) for -addr and -centrifugo-api-key, and exit")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	clientSet := false
	fs.Visit(func(f *flag.Flag) { clientSet = clientSet || f.Name == "client" })
	if c.target == targetCentrifugo && !clientSet {
		c.client = clientGeneric
	}
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimRight(strings.TrimSpace(a), "/"); a != "" {
			c.addrs = append(c.addrs, a)
		}
	}
	for _, p := range strings.Split(pids, ",") {
		if p = strings.TrimSpace(p); p != "" {
			var n int
			if _, err := fmt.Sscan(p, &n); err != nil || n <= 0 {
				return config{}, fmt.Errorf("-pid: %q is not a process id", p)
			}
			c.pids = append(c.pids, n)
		}
	}
	if c.users == 0 {
		c.users = c.clients
	}
	if c.tokenFile == "" {
		c.tokenFile = filepath.Join(os.TempDir(), "chatbench-"+c.prefix+".json")
	}
	return c, c.validate()
}

func (c config) validate() error {
	var errs []error
	if len(c.addrs) == 0 {
		errs = append(errs, errors.New("-addr names no server"))
	}
	for _, a := range c.addrs {
		if err := checkTarget(a, c.allowRemote); err != nil {
			errs = append(errs, err)
		}
	}
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New(msg))
		}
	}
	check(c.clients > 0 && c.clients <= maxClients, fmt.Sprintf("-clients must be 1..%d", maxClients))
	check(c.users > 0 && c.users <= c.clients, "-users must be 1..-clients")
	check(c.rooms > 0 && c.rooms <= min(maxRooms, c.users), "-rooms must be 1..min(10000, -users)")
	check(c.client == clientFast || c.client == clientGeneric, "-client must be fast or generic")
	check(c.target == targetParley || c.target == targetCentrifugo, "-target must be parley or centrifugo")
	check(slices.Contains(protocols, c.protocol), fmt.Sprintf("-protocol %q: must be one of %s", c.protocol, strings.Join(protocols, ", ")))
	if c.target == targetCentrifugo {
		check(c.client == clientGeneric, "-client fast reads Parley's frames only: Centrifugo's are always decoded in full")
		check(len(c.addrs) == 1, "-target centrifugo takes one -addr: the memory engine does not share publications between processes")
		check(!c.h2c, "-h2c is for Parley: Centrifugo's API is called over HTTP/1.1")
		check(c.apiKey != "", "-centrifugo-api-key must not be empty: Centrifugo refuses API calls without a key")
		check(c.protocol == protocolJSON, "-protocol is for Parley: Centrifugo's clients speak its JSON protocol")
	}
	check(c.everywhere >= 0 && c.everywhere <= maxEverywhere, fmt.Sprintf("-everywhere must be 0..%d", maxEverywhere))
	check(c.senders >= 0 && c.senders <= c.clients, "-senders must be 0..-clients")
	check(c.rate >= 0, "-rate must not be negative")
	check(c.duration > 0 && c.duration <= maxDuration, "-duration must be positive and at most 1h")
	check(c.settle >= 0 && c.settle <= time.Minute, "-settle must be 0..1m")
	check(c.drain > 0 && c.drain <= maxDrain, "-drain must be positive and at most 10m")
	check(c.bodyBytes >= minBodyBytes && c.bodyBytes <= maxBodyBytes, fmt.Sprintf("-body-bytes must be %d..%d", minBodyBytes, maxBodyBytes))
	check(c.prefix != "" && len(c.prefix) <= 16 && isWord(c.prefix), "-prefix must be 1-16 letters, digits or _")
	check(c.dialWorkers > 0 && c.dialWorkers <= 1000, "-dial-workers must be 1..1000")
	check(c.setupWorkers > 0 && c.setupWorkers <= 256, "-setup-workers must be 1..256")
	return errors.Join(errs...)
}

func isWord(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// checkTarget refuses URLs that are not http(s) on a loopback address,
// unless remote targets are allowed: a load test aimed at someone else's
// server by mistake is an attack.
func checkTarget(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-addr %q must be a URL such as %s", raw, defaultAddr)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q is not a loopback address; pass -allow-remote to load a remote server", raw)
}
