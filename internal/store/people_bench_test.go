package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// The seed of BenchmarkSearchUsers: searchSeedUsers users named after
// searchFirstNames (so that short prefixes match thousands, as real names
// do), searchBlockers of whom blocked the searching user.
const (
	searchSeedUsers = 100_000
	searchBatch     = 1000
	searchBlockers  = 100
)

var searchFirstNames = []string{
	"anna", "ben", "chloe", "david", "emma", "felix", "grace", "henry", "isla", "jack",
	"karin", "liam", "maya", "noah", "olga", "paul", "quinn", "rosa", "sam", "tom",
	"uma", "victor", "wen", "xavier", "yuki", "zoe", "li", "mohammed", "sofia", "lucas",
}

// seedSearchUsers inserts the users with INSERT … SELECT over a numbers
// table, searchBatch rows a statement shape, in a few seconds.
func seedSearchUsers(b *testing.B, exec func(string, ...any)) {
	b.Helper()
	values := make([]string, searchBatch)
	for i := range values {
		values[i] = fmt.Sprintf("(%d)", i)
	}
	exec("CREATE TABLE seed_users_n (n BIGINT PRIMARY KEY)")
	exec("INSERT INTO seed_users_n VALUES " + strings.Join(values, ","))
	names := "'" + strings.Join(searchFirstNames, "','") + "'"
	for k := range searchSeedUsers / searchBatch {
		exec(fmt.Sprintf(`INSERT INTO users (username, email, display_name, password_hash, created_at, status_text)
			SELECT CONCAT(ELT(id %% %[1]d + 1, %[2]s), id), CONCAT('u', id, '@example.com'),
			  CONCAT(UPPER(LEFT(ELT(id %% %[1]d + 1, %[2]s), 1)), SUBSTRING(ELT(id %% %[1]d + 1, %[2]s), 2), ' ', ELT((id DIV 7) %% %[1]d + 1, %[2]s), 'son'),
			  'x', UTC_TIMESTAMP(6), 'here'
			FROM (SELECT n + ? AS id FROM seed_users_n) s`, len(searchFirstNames), names), k*searchBatch)
	}
	exec("DROP TABLE seed_users_n")
	exec("ANALYZE TABLE users, blocks")
}

// BenchmarkSearchUsers is SearchUsers among 100,000 users, with prefixes
// of one to four letters of usernames and display names; a hundred of the
// users blocked the searcher. The target is p99 ≤ 5 ms.
func BenchmarkSearchUsers(b *testing.B) {
	dsn := testenv.MySQLDSN(b)
	st, db := open(b, dsn), rawDB(b, dsn)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	start := time.Now()
	viewer := newUser(b, st, "searcher")
	seedSearchUsers(b, exec)
	exec(fmt.Sprintf("INSERT INTO blocks (blocker_id, blocked_id, created_at) SELECT id, ?, UTC_TIMESTAMP(6) FROM users WHERE username LIKE 'anna%%' LIMIT %d", searchBlockers), viewer.ID)
	b.Logf("seeded %d users in %s", searchSeedUsers, time.Since(start).Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(1, 2))
	var took []time.Duration
	for b.Loop() {
		name := searchFirstNames[rng.IntN(len(searchFirstNames))]
		q := name[:1+rng.IntN(min(4, len(name)))]
		if rng.IntN(2) == 0 {
			q = strings.ToUpper(q[:1]) + q[1:] // a display name's start
		}
		t0 := time.Now()
		got, err := st.SearchUsers(ctx, viewer.ID, q, 20)
		took = append(took, time.Since(t0))
		if err != nil || len(got) == 0 {
			b.Fatalf("search %q: %d users, %v", q, len(got), err)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
}
