package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MariaDB is a private mariadbd a fault test may pause (SIGSTOP, as a hung
// disk or a stalled primary looks) and resume, without touching the
// MariaDB other tests share. It starts in about three seconds: a small
// InnoDB log and buffer pool, no binary log, no test database.
type MariaDB struct {
	process
	Port int
	dir  string
}

// mariadbStartTimeout bounds how long mariadbd may take to answer once started.
const mariadbStartTimeout = 30 * time.Second

// small settings shared by mariadb-install-db (which bootstraps with them)
// and mariadbd.
var mariadbSmall = []string{"--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M"}

// StartMariaDB creates a data directory and starts mariadbd on a free
// loopback port; it is killed and removed when the test ends.
func StartMariaDB(tb testing.TB) *MariaDB {
	tb.Helper()
	m := &MariaDB{process: process{tb: tb, name: "mariadbd"}, Port: freePort(tb), dir: tb.TempDir()}
	install := exec.Command("mariadb-install-db", append([]string{"--no-defaults",
		"--datadir=" + m.datadir(), "--user=root", "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve"}, mariadbSmall...)...)
	if out, err := install.CombinedOutput(); err != nil {
		tb.Fatalf("mariadb-install-db (apt-get install mariadb-server): %v\n%s", err, out)
	}
	m.cmd = exec.Command("mariadbd", append([]string{"--no-defaults",
		"--datadir=" + m.datadir(), "--user=root", "--port=" + strconv.Itoa(m.Port),
		"--bind-address=127.0.0.1", "--skip-networking=0", "--socket=" + filepath.Join(m.dir, "sock"),
		"--pid-file=" + filepath.Join(m.dir, "pid"), "--log-error=" + filepath.Join(m.dir, "error.log"),
		"--skip-log-bin", "--skip-name-resolve"}, mariadbSmall...)...)
	if err := m.cmd.Start(); err != nil {
		tb.Fatalf("start mariadbd: %v", err)
	}
	tb.Cleanup(m.stop)
	m.waitReady()
	return m
}

func (m *MariaDB) datadir() string { return filepath.Join(m.dir, "data") }

// DSN is a chatd DSN for database name on this server (chatd creates it).
func (m *MariaDB) DSN(name string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName, cfg.ParseTime = "root", "tcp", fmt.Sprintf("127.0.0.1:%d", m.Port), name, true
	return cfg.FormatDSN()
}

// waitReady waits until the server answers a query.
func (m *MariaDB) waitReady() {
	m.tb.Helper()
	db, err := sql.Open("mysql", m.DSN(""))
	if err != nil {
		m.tb.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(mariadbStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(m.dir, "error.log"))
			m.tb.Fatalf("mariadbd did not answer within %s: %v\n%s", mariadbStartTimeout, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server, paused or not; its data directory goes with the
// test's temporary directory.
func (m *MariaDB) stop() {
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
}
