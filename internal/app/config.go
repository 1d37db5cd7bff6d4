// Package app assembles chatd: it reads the configuration, connects MySQL and
// Redis, wires the domain to its adapters, serves until its context ends and
// then shuts down in order.
package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/blob/s3"
	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/rpc"
)

// Config is every setting of chatd, from flags or PARLEY_* variables (a flag
// wins). The variable names are a public contract.
type Config struct {
	Addr            string
	AdminAddr       string
	MySQLDSN        string
	RedisURL        string
	RedisPrefix     string
	JWTSecret       string
	AllowedOrigins  []string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	MaxConnsPerUser int
	QueueSize       int
	ResumeWindow    int
	MaxRequestBytes int
	Limits          rpc.Limits
	Passwords       ratelimit.PasswordLimits

	// PublicURL is the address people open the web app at, e.g.
	// https://chat.example.com; nil when unknown. HSTS is sent only when it
	// is https.
	PublicURL *url.URL

	// HTTP server hardening: how long a client may take to send a
	// request's headers and body, to read a reply, and to stay idle between
	// requests; how many connections one address may hold open.
	ReadTimeout   time.Duration
	WriteTimeout  time.Duration
	IdleTimeout   time.Duration
	MaxConnsPerIP int
	// Dependency deadlines: the longest MySQL or Redis may take to answer
	// before the call fails with unavailable.
	MySQLTimeout time.Duration
	RedisTimeout time.Duration
	// Files: where blobs are kept (a directory, or S3 when S3.Endpoint is
	// set), how large uploads may be, and how long download URLs live.
	BlobDir        string
	S3             s3.Config
	UploadMaxBytes int64
	UploadQuota    int64
	ImageMaxPixels int64
	FileURLTTL     time.Duration
	UploadRate     ratelimit.Rate
	// ProfileContention turns on Go's mutex and block profiles on the
	// admin listener; they cost a little on every contended lock.
	ProfileContention bool
}

// minSecretBytes is the shortest PARLEY_JWT_SECRET accepted: HS256 wants a
// key at least as long as its hash.
const minSecretBytes = 32

// adminOff as PARLEY_ADMIN_ADDR disables the admin listener.
const adminOff = "off"

// ParseConfig reads flags from args and variables through getenv.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c Config
	var origins, level, publicURL string
	fs := flag.NewFlagSet("chatd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("PARLEY_ADDR", ":8080"), "listen address for the API, WebSocket and web app (PARLEY_ADDR)")
	fs.StringVar(&c.AdminAddr, "admin-addr", env("PARLEY_ADMIN_ADDR", "127.0.0.1:9090"), "private listen address for /metrics and /debug/pprof; \"off\" (or an empty flag) disables it (PARLEY_ADMIN_ADDR)")
	fs.StringVar(&c.MySQLDSN, "mysql-dsn", env("PARLEY_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/parley?parseTime=true"), "MySQL DSN; the database is created if missing (PARLEY_MYSQL_DSN)")
	fs.StringVar(&c.RedisURL, "redis-url", env("PARLEY_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL (PARLEY_REDIS_URL)")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", env("PARLEY_REDIS_PREFIX", "parley:"), "prefix of every Redis key and channel (PARLEY_REDIS_PREFIX)")
	fs.StringVar(&c.JWTSecret, "jwt-secret", env("PARLEY_JWT_SECRET", ""), "HS256 key for access tokens; generated and shared through MySQL when empty (PARLEY_JWT_SECRET)")
	fs.StringVar(&origins, "allowed-origins", env("PARLEY_ALLOWED_ORIGINS", ""), "comma-separated extra origins allowed to open /ws (PARLEY_ALLOWED_ORIGINS)")
	fs.StringVar(&publicURL, "public-url", env("PARLEY_PUBLIC_URL", ""), "address the web app is opened at, e.g. https://chat.example.com; https turns on HSTS (PARLEY_PUBLIC_URL)")
	fs.StringVar(&level, "log-level", env("PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDuration(env("PARLEY_SHUTDOWN_TIMEOUT", "15s")), "how long a graceful shutdown may take (PARLEY_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&c.MaxConnsPerUser, "max-conns-per-user", envInt(env("PARLEY_MAX_CONNS_PER_USER", "20")), "live connections per user across processes (PARLEY_MAX_CONNS_PER_USER)")
	fs.IntVar(&c.QueueSize, "send-queue", envInt(env("PARLEY_SEND_QUEUE", "512")), "events queued per connection before it is dropped as too slow (PARLEY_SEND_QUEUE)")
	fs.IntVar(&c.ResumeWindow, "resume-window", envInt(env("PARLEY_RESUME_WINDOW", "1000")), "missed messages per room a resume replays (PARLEY_RESUME_WINDOW)")
	fs.IntVar(&c.MaxRequestBytes, "max-request-bytes", envInt(env("PARLEY_MAX_REQUEST_BYTES", "65536")), "largest RPC request body (PARLEY_MAX_REQUEST_BYTES)")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", envDuration(env("PARLEY_READ_TIMEOUT", "10s")), "how long a client may take to send a request's headers, and then its body (PARLEY_READ_TIMEOUT)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", envDuration(env("PARLEY_WRITE_TIMEOUT", "30s")), "how long a client may take to read a reply; on HTTP/2, the longest a connection may accept no data (PARLEY_WRITE_TIMEOUT)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", envDuration(env("PARLEY_IDLE_TIMEOUT", "65s")), "how long an idle keep-alive connection is kept open (PARLEY_IDLE_TIMEOUT)")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", envInt(env("PARLEY_MAX_CONNS_PER_IP", "256")), "open connections per client address; PARLEY_TRUSTED_PROXIES are exempt (PARLEY_MAX_CONNS_PER_IP)")
	fs.DurationVar(&c.MySQLTimeout, "mysql-timeout", envDuration(env("PARLEY_MYSQL_TIMEOUT", "1s")), "longest wait for MySQL to answer before a call fails with unavailable; the DSN's own readTimeout, writeTimeout and timeout win (PARLEY_MYSQL_TIMEOUT)")
	fs.DurationVar(&c.RedisTimeout, "redis-timeout", envDuration(env("PARLEY_REDIS_TIMEOUT", "250ms")), "longest wait for Redis to answer one command before it counts as down (PARLEY_REDIS_TIMEOUT)")
	fs.StringVar(&c.BlobDir, "blob-dir", env("PARLEY_BLOB_DIR", "data/blobs"), "directory of uploaded files, shared by all processes, unless PARLEY_S3_ENDPOINT is set (PARLEY_BLOB_DIR)")
	fs.StringVar(&c.S3.Endpoint, "s3-endpoint", env("PARLEY_S3_ENDPOINT", ""), "S3-compatible service keeping uploaded files instead of PARLEY_BLOB_DIR, e.g. https://s3.eu-west-1.amazonaws.com (PARLEY_S3_ENDPOINT)")
	fs.StringVar(&c.S3.Bucket, "s3-bucket", env("PARLEY_S3_BUCKET", "parley"), "S3 bucket, created if missing (PARLEY_S3_BUCKET)")
	fs.StringVar(&c.S3.Region, "s3-region", env("PARLEY_S3_REGION", "us-east-1"), "S3 region (PARLEY_S3_REGION)")
	c.S3.AccessKey, c.S3.SecretKey = getenv("PARLEY_S3_ACCESS_KEY"), getenv("PARLEY_S3_SECRET_KEY") // no flags: keys stay out of ps
	fs.Int64Var(&c.UploadMaxBytes, "upload-max-bytes", envInt64(env("PARLEY_UPLOAD_MAX_BYTES", "26214400")), "largest upload, in bytes (PARLEY_UPLOAD_MAX_BYTES, default 25 MiB)")
	fs.Int64Var(&c.UploadQuota, "upload-quota-bytes", envInt64(env("PARLEY_UPLOAD_QUOTA_BYTES", "1073741824")), "bytes of uploads one user may keep, attached or not (PARLEY_UPLOAD_QUOTA_BYTES, default 1 GiB)")
	fs.Int64Var(&c.ImageMaxPixels, "image-max-pixels", envInt64(env("PARLEY_IMAGE_MAX_PIXELS", "50000000")), "largest image decoded, in pixels; larger ones are refused from their header (PARLEY_IMAGE_MAX_PIXELS)")
	fs.DurationVar(&c.FileURLTTL, "file-url-ttl", envDuration(env("PARLEY_FILE_URL_TTL", "1h")), "how long a signed download URL works (PARLEY_FILE_URL_TTL)")
	var bad []error
	contention, err := strconv.ParseBool(env("PARLEY_PROFILE_CONTENTION", "false"))
	if err != nil {
		bad = append(bad, fmt.Errorf("PARLEY_PROFILE_CONTENTION must be true or false, not %q", env("PARLEY_PROFILE_CONTENTION", "")))
	}
	fs.BoolVar(&c.ProfileContention, "profile-contention", contention, "sample lock contention and blocking for /debug/pprof/mutex and /debug/pprof/block on the admin listener (PARLEY_PROFILE_CONTENTION)")
	rate := func(r *ratelimit.Rate, name, variable, def, usage string) {
		var err error
		if *r, err = ratelimit.ParseRate(env(variable, def)); err != nil {
			bad = append(bad, fmt.Errorf("%s: %w", variable, err))
		}
		fs.Func(name, fmt.Sprintf("%s, as N/duration (%s, default %s)", usage, variable, def), func(s string) (err error) {
			*r, err = ratelimit.ParseRate(s)
			return err
		})
	}
	rate(&c.Passwords.LoginPerAccount, "limit-login-account", "PARLEY_LIMIT_LOGIN_ACCOUNT", "5/30m", "failed logins per account and address")
	rate(&c.Passwords.LoginPerAddress, "limit-login-ip", "PARLEY_LIMIT_LOGIN_IP", "50/5m", "failed logins per address")
	rate(&c.Passwords.ChangePerUser, "limit-password-change", "PARLEY_LIMIT_PASSWORD_CHANGE", "5/30m", "wrong current passwords given to ChangePassword per user")
	rate(&c.Limits.SendsPerRoom, "limit-send", "PARLEY_LIMIT_SEND", "10/10s", "messages per user per room")
	rate(&c.Limits.CallsPerUser, "limit-calls", "PARLEY_LIMIT_CALLS", "100/5s", "RPCs per user, or per address before login")
	rate(&c.UploadRate, "limit-upload", "PARLEY_LIMIT_UPLOAD", "30/1m", "uploads per user")
	rate(&c.Limits.FriendRequestsPerUser, "limit-friend-request", "PARLEY_LIMIT_FRIEND_REQUEST", "20/1h", "friend requests per user")
	rate(&c.Limits.RoomsPerUser, "limit-create-room", "PARLEY_LIMIT_CREATE_ROOM", "30/10m", "rooms created or conversations opened per user")
	if err := parsePrefixes(env("PARLEY_TRUSTED_PROXIES", ""), &c.Limits.TrustedProxies); err != nil {
		bad = append(bad, err)
	}
	fs.Func("trusted-proxies", "comma-separated CIDRs of proxies whose X-Forwarded-For is believed (PARLEY_TRUSTED_PROXIES)", func(s string) error {
		return parsePrefixes(s, &c.Limits.TrustedProxies)
	})
	if err := errors.Join(bad...); err != nil {
		return Config{}, err
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	// An empty variable reads as unset, so the variable has a word for off.
	if strings.EqualFold(c.AdminAddr, adminOff) {
		c.AdminAddr = ""
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return Config{}, fmt.Errorf("PARLEY_LOG_LEVEL: %w", err)
	}
	publicU, err := parsePublicURL(publicURL)
	if err != nil {
		return Config{}, err
	}
	c.PublicURL = publicU
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.JWTSecret != "" && len(c.JWTSecret) < minSecretBytes {
		errs = append(errs, fmt.Errorf("PARLEY_JWT_SECRET must be at least %d bytes (or unset, to let chatd generate one)", minSecretBytes))
	}
	for name, v := range map[string]int{
		"PARLEY_MAX_CONNS_PER_USER": c.MaxConnsPerUser, "PARLEY_SEND_QUEUE": c.QueueSize,
		"PARLEY_RESUME_WINDOW": c.ResumeWindow, "PARLEY_MAX_REQUEST_BYTES": c.MaxRequestBytes,
		"PARLEY_MAX_CONNS_PER_IP": c.MaxConnsPerIP,
	} {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive number", name))
		}
	}
	for name, v := range map[string]int64{
		"PARLEY_UPLOAD_MAX_BYTES": c.UploadMaxBytes, "PARLEY_UPLOAD_QUOTA_BYTES": c.UploadQuota, "PARLEY_IMAGE_MAX_PIXELS": c.ImageMaxPixels,
	} {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive number", name))
		}
	}
	if c.S3.Endpoint != "" && (c.S3.AccessKey == "" || c.S3.SecretKey == "") {
		errs = append(errs, errors.New("PARLEY_S3_ENDPOINT needs PARLEY_S3_ACCESS_KEY and PARLEY_S3_SECRET_KEY"))
	}
	for name, d := range map[string]time.Duration{
		"PARLEY_FILE_URL_TTL":     c.FileURLTTL,
		"PARLEY_SHUTDOWN_TIMEOUT": c.ShutdownTimeout, "PARLEY_READ_TIMEOUT": c.ReadTimeout,
		"PARLEY_WRITE_TIMEOUT": c.WriteTimeout, "PARLEY_IDLE_TIMEOUT": c.IdleTimeout,
		"PARLEY_MYSQL_TIMEOUT": c.MySQLTimeout, "PARLEY_REDIS_TIMEOUT": c.RedisTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive duration such as 15s or 500ms", name))
		}
	}
	return errors.Join(errs...)
}

// envInt and envDuration turn a malformed value into -1, which validate
// reports by name.
func envInt(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func envInt64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func envDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		return -1
	}
	return d
}

// parsePublicURL accepts an absolute http or https URL, or "" for none.
func parsePublicURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("PARLEY_PUBLIC_URL must be an http or https address such as https://chat.example.com, not %q", s)
	}
	return u, nil
}

func parsePrefixes(list string, out *[]netip.Prefix) error {
	*out = nil
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("PARLEY_TRUSTED_PROXIES: %w", err)
		}
		*out = append(*out, p)
	}
	return nil
}
