package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/search"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

// The seed of BenchmarkSearchMessages: searchRooms rooms of searchPerRoom
// messages (1M in all), bodies drawn from searchBodies generated ones, the
// searcher a member of searchMember of the rooms.
const (
	searchRooms   = 100
	searchPerRoom = 10_000
	searchBodies  = 20_000
	searchMember  = 20
)

// Words the generator draws from, the first ones most often (Zipf), as in
// real chat. Chinese is written as words without spaces, so its bigrams
// repeat the way real text's do.
var (
	enWords = strings.Fields(`the a to is we it on for and of in this that can you i be will with at
		deploy deployed deployment server build test release fix bug review merge branch today
		tomorrow meeting please check log error timeout database cache query index migration
		rollback staging production config update ticket customer report dashboard alert latency
		memory disk network api client token login password upload file image voice search result
		page team design doc draft plan sprint retro demo launch metric graph chart backup restore`)
	zhWords = strings.Fields(`我们 今天 你好 部署 服务器 测试 发布 修复 问题 会议 数据库 缓存 查询 索引 迁移 回滚
		环境 生产 配置 更新 客户 报告 告警 延迟 内存 磁盘 网络 接口 登录 密码 上传 文件 图片 语音
		搜索 结果 页面 团队 设计 文档 计划 演示 上线 指标 备份 恢复 明天 已经 可以 需要 一下 大家 谢谢`)
)

// genBody makes a message: English, Chinese, or (one in five) both.
func genBody(r *rand.Rand) string {
	en := rand.NewZipf(r, 1.1, 2, uint64(len(enWords)-1))
	zh := rand.NewZipf(r, 1.1, 2, uint64(len(zhWords)-1))
	words := func(n int, z *rand.Zipf, list []string, sep string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = list[z.Uint64()]
		}
		return strings.Join(parts, sep)
	}
	switch r.IntN(5) {
	case 0, 1:
		return words(4+r.IntN(12), en, enWords, " ")
	case 2, 3:
		return words(3+r.IntN(10), zh, zhWords, "") + "。"
	}
	return words(2+r.IntN(5), en, enWords, " ") + "，" + words(2+r.IntN(5), zh, zhWords, "")
}

// seedSearch fills a fresh database with the messages and their terms in
// plain SQL: the generated bodies and their terms (internal/search's) go
// into two tables, then each room's messages and term rows are one
// INSERT … SELECT each, body k = (n * 7919 + room) mod searchBodies.
func seedSearch(b *testing.B, st *store.Store, dsn string) (chat.User, []int64) {
	b.Helper()
	ctx := context.Background()
	db := rawDB(b, dsn)
	// One connection, so the session's settings hold: the seed is
	// consistent by construction and needs no checks.
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v\n%.300s", err, q)
		}
	}
	exec("SET SESSION foreign_key_checks = 0, unique_checks = 0")
	start := time.Now()
	other := newUser(b, st, "writer")
	exec("CREATE TABLE seed_n (n BIGINT PRIMARY KEY)")
	exec("CREATE TABLE seed_bodies (k INT PRIMARY KEY, body TEXT NOT NULL, body_len INT NOT NULL) DEFAULT CHARSET=utf8mb4")
	exec("CREATE TABLE seed_terms (k INT NOT NULL, term VARBINARY(64) NOT NULL, weight INT NOT NULL, PRIMARY KEY (k, term))")
	insertMany(b, exec, "INSERT INTO seed_n VALUES ", searchPerRoom, func(i int) (string, []any) { return "(?)", []any{i + 1} })
	r := rand.New(rand.NewPCG(17, 4))
	bodies := make([]string, searchBodies)
	var terms [][3]any
	for k := range bodies {
		bodies[k] = genBody(r)
		t := search.Normalize(bodies[k])
		for term, n := range search.Terms(t) {
			terms = append(terms, [3]any{k, []byte(term), n * 1_000_000 / len(t.Runes)})
		}
	}
	insertMany(b, exec, "INSERT INTO seed_bodies VALUES ", len(bodies), func(i int) (string, []any) {
		return "(?,?,CHAR_LENGTH(?))", []any{i, bodies[i], bodies[i]}
	})
	insertMany(b, exec, "INSERT INTO seed_terms VALUES ", len(terms), func(i int) (string, []any) { return "(?,?,?)", terms[i][:] })
	rooms := make([]int64, searchRooms)
	// Messages are a second apart in each room, the rooms interleaved.
	body := fmt.Sprintf("(s.n * 7919 + ?) %% %d", searchBodies)
	const at = "TIMESTAMPADD(MICROSECOND, (s.n * 100 + ?) * 10000, '2026-01-01')"
	for i := range rooms {
		room, _, err := st.CreateRoom(ctx, chat.NewRoom{Name: fmt.Sprintf("search %03d", i), Visibility: chat.Public, OwnerID: other.ID})
		if err != nil {
			b.Fatal(err)
		}
		rooms[i] = room.ID
		if i%10 == 0 {
			b.Logf("seeding room %d of %d (%s so far)", i+1, searchRooms, time.Since(start).Round(time.Second))
		}
		exec(`INSERT INTO messages (room_id, seq, sender_id, body, client_msg_id, created_at)
			SELECT ?, s.n, ?, d.body, CONCAT('s', s.n), `+at+` FROM seed_n s JOIN seed_bodies d ON d.k = `+body,
			room.ID, other.ID, i, room.ID)
		seedSenders(exec, room.ID)
		exec(`INSERT INTO message_terms (term, created_at, room_id, seq, sender_id, weight)
			SELECT t.term, `+at+`, ?, s.n, ?, t.weight FROM seed_n s JOIN seed_terms t ON t.k = `+body,
			i, room.ID, other.ID, room.ID)
		exec("UPDATE rooms SET last_seq = ? WHERE id = ?", searchPerRoom, room.ID)
	}
	// The searcher, made last, marks the seed complete.
	user := newUser(b, st, "searcher")
	for i, room := range rooms {
		if i%(searchRooms/searchMember) == 0 {
			exec("INSERT INTO memberships (room_id, user_id, role, joined_at) VALUES (?, ?, 2, UTC_TIMESTAMP(6))", room, user.ID)
		}
	}
	exec("ANALYZE TABLE messages, message_terms, memberships")
	b.Logf("seeded %d messages in %d rooms (%d generated bodies) in %s", searchRooms*searchPerRoom, searchRooms, searchBodies, time.Since(start).Round(time.Second))
	return user, rooms
}

// insertMany inserts n rows in statements of 1,000.
func insertMany(b *testing.B, exec func(string, ...any), prefix string, n int, row func(int) (string, []any)) {
	b.Helper()
	for lo := 0; lo < n; lo += 1000 {
		var sb strings.Builder
		var args []any
		for i := lo; i < min(lo+1000, n); i++ {
			p, a := row(i)
			if i > lo {
				sb.WriteByte(',')
			}
			sb.WriteString(p)
			args = append(args, a...)
		}
		exec(prefix+sb.String(), args...)
	}
}

// BenchmarkSearchMessages is SearchMessages as the service runs it (index
// candidates, verification on the body, rooms), a first page of 20, for a
// user in 20 of 100 rooms of 1M messages. Target: p95 ≤ 50 ms per query.
func BenchmarkSearchMessages(b *testing.B) {
	// The seed takes minutes, so it is kept in a database of its own and
	// reused; drop parley_bench_search to seed again.
	cfg, err := mysql.ParseDSN(testenv.MySQLDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.DBName = "parley_bench_search"
	dsn := cfg.FormatDSN()
	// A slow query is measured, not cut off at the tests' one second.
	st, err := store.Open(context.Background(), dsn, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	user, err := st.UserByUsername(context.Background(), "searcher")
	if err != nil {
		user, _ = seedSearch(b, st, dsn)
	}
	svc := chat.NewService(st, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	queries := []string{"deploy", "database migration", "timeout", "rollback staging", "你好", "服务器", "数据库迁移", "部署 deploy", "备份恢复"}
	for _, order := range []chat.SearchOrder{chat.SearchNewest, chat.SearchRelevance} {
		for _, q := range queries {
			b.Run(fmt.Sprintf("order=%d/%s", order, q), func(b *testing.B) {
				var took []time.Duration
				hits := 0
				for b.Loop() {
					t0 := time.Now()
					res, _, err := svc.SearchMessages(context.Background(), user.ID, chat.SearchRequest{Query: q, Order: order})
					took = append(took, time.Since(t0))
					if err != nil {
						b.Fatal(err)
					}
					hits = len(res)
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(hits), "hits")
			})
		}
	}
}
