// Package store keeps Parley's users, rooms, memberships and messages in
// MySQL (or MariaDB) through sqlc's typed queries. It applies the embedded
// migrations at start-up and turns driver errors into the domain's.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"

	"github.com/parley-chat/parley/db/migrations"
	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// Pool sizes for a small box: enough connections for group commits and
// readers in parallel, few enough that MySQL never thrashes.
const (
	maxOpenConns    = 32
	connMaxLifetime = 30 * time.Minute
	pingTimeout     = 5 * time.Second
)

// MySQL error numbers the store reacts to.
const (
	errDuplicateEntry = 1062
	errDeadlock       = 1213
	errLockWaitTO     = 1205
)

// Store is the MySQL adapter for the chat and auth domains.
type Store struct {
	db *sql.DB
	// batchDB runs the send batches' transactions (withBatchTx).
	batchDB *sql.DB
	q       *db.Queries
	batches batcher
	// reads gathers watermark moves into shared commits (see readWrites).
	reads readWrites
	kinds kindCache
	// timeout is the longest MySQL may take to answer (the DSN's
	// readTimeout); a commit that takes longer is answered unavailable.
	timeout time.Duration
}

// Open connects to the DSN's database, creating it when it is missing and the
// account may, and applies pending migrations. timeout bounds every dial,
// read and write on a connection unless the DSN sets its own (timeout,
// readTimeout, writeTimeout): a MySQL that stalls (a hung disk, a paused
// primary) then fails calls with unavailable instead of holding them.
func Open(ctx context.Context, dsn string, timeout time.Duration, log *slog.Logger) (*Store, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse MySQL DSN: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false
	// Without interpolation every query with arguments is prepared, run and
	// closed: three packets and two round trips instead of one. Escaping is
	// safe with the utf8mb4 connection charset; the driver refuses to
	// interpolate under charsets where it is not.
	cfg.InterpolateParams = true
	// Without these a blackholed MySQL holds every request until the OS
	// gives up, and a paused one holds them until it resumes.
	for _, d := range []*time.Duration{&cfg.Timeout, &cfg.ReadTimeout, &cfg.WriteTimeout} {
		if *d == 0 {
			*d = timeout
		}
	}
	cfg.Logger = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	if err := createDatabase(ctx, *cfg, log); err != nil {
		return nil, err
	}
	if err := migrate(ctx, *cfg, log); err != nil {
		return nil, err
	}
	sqlDB, err := openPool(cfg, maxOpenConns)
	if err != nil {
		return nil, err
	}
	// The send batches have a pool of their own, the only one that takes
	// several statements in one query: a batch's inserts go in one round
	// trip (statements), which the room's next batch waits for.
	batchCfg := cfg.Clone()
	batchCfg.MultiStatements = true
	batchDB, err := openPool(batchCfg, 2*commitShards)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	return &Store{db: sqlDB, batchDB: batchDB, q: db.New(sqlDB), timeout: cfg.ReadTimeout}, nil
}

// openPool opens a connection pool of at most n connections.
func openPool(cfg *mysql.Config, n int) (*sql.DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	pool := sql.OpenDB(conn)
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxLifetime(connMaxLifetime)
	return pool, nil
}

// createDatabase creates the DSN's database if it does not exist yet.
func createDatabase(ctx context.Context, cfg mysql.Config, log *slog.Logger) error {
	name := cfg.DBName
	if name == "" {
		return errors.New("the MySQL DSN names no database (…/parley?parseTime=true)")
	}
	cfg.DBName = ""
	conn, err := mysql.NewConnector(&cfg)
	if err != nil {
		return err
	}
	server := sql.OpenDB(conn)
	defer server.Close()
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := server.PingContext(ctx); err != nil {
		return fmt.Errorf("cannot reach MySQL at %s (%w); start it (e.g. `start-stop-daemon --start --background --exec /usr/sbin/mariadbd`) or set PARLEY_MYSQL_DSN", cfg.Addr, err)
	}
	log.Info("ensuring database exists", "database", name, "addr", cfg.Addr)
	_, err = server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+escapeIdent(name)+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	if err != nil {
		// An account limited to an existing database may not create one;
		// opening it below says clearly if it is really missing.
		log.Warn("could not create the database; using it as it is", "database", name, "err", err)
	}
	return nil
}

func escapeIdent(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '`' {
			out = append(out, r)
		}
		out = append(out, r)
	}
	return string(out)
}

// migrate applies pending migrations over a pool of its own without read
// and write timeouts: an ALTER of a large table may rightly take minutes.
func migrate(ctx context.Context, cfg mysql.Config, log *slog.Logger) error {
	cfg.ReadTimeout, cfg.WriteTimeout = 0, 0
	conn, err := mysql.NewConnector(&cfg)
	if err != nil {
		return err
	}
	sqlDB := sql.OpenDB(conn)
	defer sqlDB.Close()
	provider, err := goose.NewProvider(goose.DialectMySQL, sqlDB, migrations.FS)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return errors.Join(s.batchDB.Close(), s.db.Close()) }

// Ping tells whether MySQL answers; readiness uses it.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Stats reports the connection pool's figures.
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// withTx runs fn in a READ COMMITTED transaction, retrying once on a
// deadlock, the one error that a retry fixes.
func (s *Store) withTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return s.withSQLTx(ctx, func(_ *sql.Tx, q *db.Queries) error { return fn(q) })
}

// withSQLTx is withTx for statements sqlc cannot type, which need the
// transaction itself.
func (s *Store) withSQLTx(ctx context.Context, fn func(tx *sql.Tx, q *db.Queries) error) error {
	err := s.tx(ctx, fn)
	if isMySQLError(err, errDeadlock, errLockWaitTO) {
		err = s.tx(ctx, fn)
	}
	return err
}

func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx, q *db.Queries) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return domainError(err)
	}
	if err := fn(tx, s.q.WithTx(tx)); err != nil {
		_ = tx.Rollback()
		return err
	}
	return domainError(tx.Commit())
}

func isMySQLError(err error, numbers ...uint16) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, n := range numbers {
		if me.Number == n {
			return true
		}
	}
	return false
}

// isDuplicateKey reports a duplicate entry in the named unique key.
// MySQL names it "table.key" in the message, MariaDB "key".
func isDuplicateKey(err error, key string) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errDuplicateEntry &&
		(strings.HasSuffix(me.Message, "'"+key+"'") || strings.HasSuffix(me.Message, "."+key+"'"))
}

// notFound words a missing row for people; other errors pass through
// domainError.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Errorf(chat.ErrNotFound, format, args...)
	}
	return domainError(err)
}

// domainError turns driver errors into the domain's sentinels, keeping the
// original for the log.
func domainError(err error) error {
	var netErr net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return chat.ErrNotFound
	case errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.As(err, &netErr):
		return chat.Errorf(chat.ErrUnavailable, "MySQL: %v", err)
	}
	return err
}
