// Package testenv gives tests their own slice of the real MariaDB and Redis
// and a running chatd. Each test gets a fresh database and key prefix, dropped
// when it ends; a missing service fails the test loudly instead of skipping.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/rueidis"
)

// Defaults match the services every development machine runs; the
// variables point tests elsewhere.
var (
	mysqlServer = envOr("PARLEY_TEST_MYSQL", "root@tcp(127.0.0.1:3306)/")
	redisURL    = envOr("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Name returns a unique name for a database or key prefix.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// MySQLDSN returns a DSN for a database of the test's own (chatd creates it
// on start); the database is dropped when the test ends.
func MySQLDSN(tb testing.TB) string {
	tb.Helper()
	cfg, err := mysql.ParseDSN(mysqlServer)
	if err != nil {
		tb.Fatalf("PARLEY_TEST_MYSQL: %v", err)
	}
	server, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.PingContext(ctx); err != nil {
		tb.Fatalf("MariaDB/MySQL is not reachable at %s: %v (start it: start-stop-daemon --start --background --exec /usr/sbin/mariadbd)", cfg.Addr, err)
	}
	cfg.DBName = Name("parley_test_")
	cfg.ParseTime = true
	tb.Cleanup(func() {
		_, _ = server.Exec("DROP DATABASE IF EXISTS `" + cfg.DBName + "`")
		server.Close()
	})
	return cfg.FormatDSN()
}

// Redis returns a client and a key prefix of the test's own; the keys are
// deleted when the test ends.
func Redis(tb testing.TB) (rueidis.Client, string) {
	tb.Helper()
	return redisAt(tb, redisURL, "start it: redis-server --daemonize yes")
}

// ClusterRedis is Redis on the test binary's Redis Cluster (RedisCluster).
func ClusterRedis(tb testing.TB) (rueidis.Client, string) {
	tb.Helper()
	return redisAt(tb, RedisCluster(tb).URL(), "the test's own cluster")
}

// redisKinds are the two set-ups chatd runs on, named as subtests.
var redisKinds = []struct {
	name    string
	cluster bool
}{{"Redis", false}, {"Cluster", true}}

// EachRedis runs fn as two subtests, "Redis" on the shared Redis and
// "Cluster" on the test binary's Redis Cluster, for adapters that must
// behave the same on both.
func EachRedis(t *testing.T, fn func(t *testing.T, rdb rueidis.Client, prefix string)) {
	t.Helper()
	for _, kind := range redisKinds {
		t.Run(kind.name, func(t *testing.T) {
			open := Redis
			if kind.cluster {
				open = ClusterRedis
			}
			rdb, prefix := open(t)
			fn(t, rdb, prefix)
		})
	}
}

// redisAt connects to url (a single Redis or a cluster; rueidis tells them
// apart) and gives the test a key prefix, whose keys are deleted on every
// node when the test ends.
func redisAt(tb testing.TB, url, hint string) (rueidis.Client, string) {
	tb.Helper()
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	rdb, err := rueidis.NewClient(opt)
	if err != nil {
		tb.Fatalf("Redis is not reachable at %s: %v (%s)", url, err, hint)
	}
	prefix := Name("parley_test_") + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		for _, node := range rdb.Nodes() {
			keys, _ := node.Do(ctx, node.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
			for _, k := range keys {
				_ = rdb.Do(ctx, rdb.B().Del().Key(k).Build()).Error()
			}
		}
		rdb.Close()
	})
	return rdb, prefix
}

// RedisURL is the Redis tests use.
func RedisURL() string { return redisURL }

// Env is a set of PARLEY_* variables.
type Env map[string]string

// Getenv reads the set like os.Getenv.
func (e Env) Getenv(name string) string { return e[name] }

// List returns the set as NAME=value strings for exec.Cmd.
func (e Env) List() []string {
	out := make([]string, 0, len(e))
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

// ServerEnv is the configuration of a chatd of the test's own: its own
// database and Redis prefix, a free port, and a fixed signing key so that
// several processes can share it.
func ServerEnv(tb testing.TB) Env {
	tb.Helper()
	_, prefix := Redis(tb)
	return Env{
		"PARLEY_ADDR":         "127.0.0.1:0",
		"PARLEY_MYSQL_DSN":    MySQLDSN(tb),
		"PARLEY_REDIS_URL":    redisURL,
		"PARLEY_REDIS_PREFIX": prefix,
		"PARLEY_LOG_LEVEL":    "info", // the "listening" line tells the test the port
		"PARLEY_ADMIN_ADDR":   "127.0.0.1:0",
		// Tests send bursts and fail logins on purpose; the rate-limit tests
		// delete these to get the defaults.
		"PARLEY_LIMIT_LOGIN_ACCOUNT": "100000/100s",
		"PARLEY_LIMIT_LOGIN_IP":      "100000/100s",
		"PARLEY_LIMIT_SEND":          "100000/100s",
		"PARLEY_LIMIT_CALLS":         "100000/100s",
		"PARLEY_LIMIT_UPLOAD":        "100000/100s",
		"PARLEY_LIMIT_CREATE_ROOM":   "100000/100s",
		// Each server keeps its files in a directory of its own.
		"PARLEY_BLOB_DIR": tb.TempDir(),
		// Every test package shares one MariaDB and Redis under the race
		// detector, so a commit or a command may take longer than the
		// defaults allow: that is a loaded machine, not an outage. Tests of
		// outages use the defaults (WithDefaultTimeouts).
		"PARLEY_MYSQL_TIMEOUT": "10s",
		"PARLEY_REDIS_TIMEOUT": "5s",
	}
}

// WithDefaultTimeouts gives env chatd's own dependency deadlines, for tests
// that measure how fast calls fail while MySQL or Redis is down.
func WithDefaultTimeouts(env Env) Env {
	delete(env, "PARLEY_MYSQL_TIMEOUT")
	delete(env, "PARLEY_REDIS_TIMEOUT")
	return env
}

// UseCluster moves env's Redis to the test binary's Redis Cluster, named
// as an operator names one in PARLEY_REDIS_URL, under a key prefix of the
// test's own.
func UseCluster(tb testing.TB, env Env) {
	tb.Helper()
	_, prefix := ClusterRedis(tb)
	env["PARLEY_REDIS_URL"] = RedisCluster(tb).URL()
	env["PARLEY_REDIS_PREFIX"] = prefix
}

// EachRedisEnv runs fn as two subtests, "Redis" and "Cluster", each with
// the environment newEnv makes for it; in "Cluster" it points at the test
// binary's Redis Cluster. For tests of chatd processes that must behave the
// same on both.
func EachRedisEnv(t *testing.T, newEnv func(testing.TB) Env, fn func(t *testing.T, env Env)) {
	t.Helper()
	for _, kind := range redisKinds {
		t.Run(kind.name, func(t *testing.T) {
			env := newEnv(t)
			if kind.cluster {
				UseCluster(t, env)
			}
			fn(t, env)
		})
	}
}

// listenLine finds the address in chatd's "Parley is listening" log line.
func listenLine(line string) (string, bool) {
	return logField(line, "Parley is listening", "url")
}

// logField reads a string field of the JSON log line with message msg.
func logField(line, msg, field string) (string, bool) {
	if !strings.Contains(line, `"msg":"`+msg+`"`) {
		return "", false
	}
	key := `"` + field + `":"`
	i := strings.Index(line, key)
	if i < 0 {
		return "", false
	}
	rest := line[i+len(key):]
	end := strings.IndexByte(rest, '"')
	if end < 0 {
		return "", false
	}
	return rest[:end], true
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
