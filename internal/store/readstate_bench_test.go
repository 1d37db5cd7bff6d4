package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

// The seed of BenchmarkListRooms200: a user in seedRooms rooms of
// seedEntries log entries each, every seedChangeEvery-th a change (deletes
// and reactions by turns), the rest messages: 5,000 a room, 1M in all.
const (
	seedRooms       = 200
	seedEntries     = 5200
	seedChangeEvery = 26
	seedOthers      = 5 // other members, who send most messages
	seedOwnEvery    = 10
)

// seedBehind is how far behind the user is per room, by turns: read up,
// a few, a page, thousands, never opened.
var seedBehind = []int64{0, 1, 10, 100, 1000, 3000, seedEntries}

// seedReadState fills a fresh database through plain SQL, room by room in
// INSERT … SELECT statements, and returns the user and their rooms. It
// takes a minute or so; it says what it is doing as it goes.
func seedReadState(b *testing.B, st *store.Store, db *sql.DB) (chat.User, []int64) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	user := newUser(b, st, "heavy")
	others := make([]chat.User, seedOthers)
	for i := range others {
		others[i] = newUser(b, st, fmt.Sprintf("other%d", i))
	}
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	exec("CREATE TABLE seed_n (n BIGINT PRIMARY KEY)") // not TEMPORARY: the pool has many connections
	values := make([]string, seedEntries)
	for i := range values {
		values[i] = fmt.Sprintf("(%d)", i+1)
	}
	exec("INSERT INTO seed_n VALUES " + strings.Join(values, ","))
	senders := fmt.Sprintf("CASE WHEN n %% %d = 0 THEN %d ELSE ELT(n %% %d + 1", seedOwnEvery, user.ID, seedOthers)
	for _, o := range others {
		senders += fmt.Sprintf(", %d", o.ID)
	}
	senders += ") END"
	rooms := make([]int64, seedRooms)
	for k := range rooms {
		room, _, err := st.CreateRoom(ctx, chat.NewRoom{Name: fmt.Sprintf("seed %03d", k), Visibility: chat.Public, OwnerID: others[0].ID})
		if err != nil {
			b.Fatal(err)
		}
		rooms[k] = room.ID
		if k%20 == 0 {
			b.Logf("seeding room %d of %d (%s so far)", k+1, seedRooms, time.Since(start).Round(time.Second))
		}
		seedRoom(exec, room.ID, user.ID, senders, others)
		exec("UPDATE memberships SET read_seq = ? WHERE room_id = ? AND user_id = ?", seedEntries-seedBehind[k%len(seedBehind)], room.ID, user.ID)
	}
	// A fresh table's statistics may not have caught up with a million
	// rows; a real server's have.
	exec("ANALYZE TABLE messages, timeline_changes, mentions, memberships")
	b.Logf("seeded %d rooms of %d messages in %s", seedRooms, seedEntries-seedEntries/seedChangeEvery, time.Since(start).Round(time.Second))
	return user, rooms
}

// seedRoom writes one room's log: its messages, then its changes (each
// change deletes the message before it or reacts to the one before that),
// the mentions of live messages, and the memberships.
func seedRoom(exec func(string, ...any), roomID, userID int64, senders string, others []chat.User) {
	isChange := fmt.Sprintf("n %% %d = 0", seedChangeEvery)
	isDelete := fmt.Sprintf("n %% %d = 0", 2*seedChangeEvery)
	exec(`INSERT INTO messages (room_id, seq, sender_id, body, client_msg_id, created_at, deleted)
		SELECT ?, n, `+senders+`, CONCAT('seeded message number ', n), CONCAT('s', n), UTC_TIMESTAMP(6), (n + 1) % ? = 0
		FROM seed_n WHERE NOT `+isChange, roomID, 2*seedChangeEvery)
	exec(`INSERT INTO timeline_changes (room_id, seq, change_no, kind, message_seq, user_id, created_at)
		SELECT ?, n, n DIV ?, IF(`+isDelete+`, ?, ?), IF(`+isDelete+`, n - 1, n - 2), ?, UTC_TIMESTAMP(6)
		FROM seed_n WHERE `+isChange, roomID, seedChangeEvery, changeDeleted, changeReaction, others[0].ID)
	exec(`UPDATE messages SET body = '' WHERE room_id = ? AND deleted`, roomID)
	exec(`INSERT INTO mentions (room_id, seq, user_id, sender_id, position)
		SELECT room_id, seq, IF(seq % 50 = 11, 0, ?), sender_id, 0 FROM messages
		WHERE room_id = ? AND NOT deleted AND (seq % 20 = 3 OR seq % 50 = 11)`, userID, roomID)
	exec("UPDATE rooms SET last_seq = ?, change_count = ? WHERE id = ?", seedEntries, seedEntries/seedChangeEvery, roomID)
	for _, u := range append([]int64{userID}, ids(others[1:])...) {
		exec("INSERT IGNORE INTO memberships (room_id, user_id, role, joined_at) VALUES (?, ?, 2, UTC_TIMESTAMP(6))", roomID, u)
	}
}

func ids(us []chat.User) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// BenchmarkListRooms200 is ListRooms' query for a user in 200 rooms of a
// database of 1M messages, behind by very different amounts per room. The
// target is p99 ≤ 10 ms. cold counts every room on every call, as a
// process's first ListRooms for the user does; active is the steady state,
// with messages arriving in activeRooms of the rooms meanwhile, which are
// counted again.
func BenchmarkListRooms200(b *testing.B) {
	const activeRooms = 10
	dsn := testenv.MySQLDSN(b)
	st, db := open(b, dsn), rawDB(b, dsn)
	user, rooms := seedReadState(b, st, db)
	sender := newUser(b, st, "busy")
	b.Run("cold", func(b *testing.B) {
		listRoomsP99(b, st, user, len(rooms), st.ForgetCounts)
	})
	b.Run("active", func(b *testing.B) {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // the user's busiest rooms go on
			defer close(done)
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				send(b, st, rooms[k%activeRooms], sender, fmt.Sprintf("busy %d", k))
			}
		}()
		if _, err := st.VisibleRooms(context.Background(), user.ID); err != nil { // counted once, as by an earlier call
			b.Fatal(err)
		}
		listRoomsP99(b, st, user, len(rooms), func() {})
		close(stop)
		<-done
	})
	wantSeedCounts(b, st, db, user, rooms)
}

// listRoomsP99 times ListRooms' query, calling before ahead of each, and
// reports the p99 and p50.
func listRoomsP99(b *testing.B, st *store.Store, user chat.User, rooms int, before func()) {
	var took []time.Duration
	for b.Loop() {
		before()
		t0 := time.Now()
		got, err := st.VisibleRooms(context.Background(), user.ID)
		took = append(took, time.Since(t0))
		if err != nil || len(got) < rooms {
			b.Fatalf("%d rooms, %v", len(got), err)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
}

// wantSeedCounts checks a few rooms of the seed against a recount, so the
// benchmark measures a query that is right.
func wantSeedCounts(b *testing.B, st *store.Store, db *sql.DB, user chat.User, rooms []int64) {
	b.Helper()
	for _, roomID := range rooms[:len(seedBehind)] {
		r, _, err := st.RoomFor(context.Background(), user.ID, roomID)
		if err != nil {
			b.Fatal(err)
		}
		unread, mentions := recount(b, db, roomID, user.ID, r.ReadSeq)
		if r.UnreadCount != unread || r.MentionCount != mentions {
			b.Fatalf("room behind by %d: unread %d, mentions %d; recount %d, %d", r.LastSeq-r.ReadSeq, r.UnreadCount, r.MentionCount, unread, mentions)
		}
	}
}

// BenchmarkMarkRead is readers following a busy room: 50 readers mark read
// up to the newest message at markReadRate in all while senders go as fast
// as they can. sends-alone is the same senders without readers; the
// readers must not slow them. It reports the senders' rate and the
// readers' achieved rate.
func BenchmarkMarkRead(b *testing.B) {
	const readers, senders, markReadRate = 50, 10, 2000
	for _, withReaders := range []bool{false, true} {
		name := "sends-alone"
		if withReaders {
			name = "with-readers"
		}
		b.Run(name, func(b *testing.B) {
			st, users := benchStore(b, readers+senders)
			var newest, marked atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if withReaders {
				for _, u := range users[:readers] {
					if _, _, err := st.AddMember(context.Background(), testenv.General, u.ID, chat.Member); err != nil {
						b.Fatal(err)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						tick := time.NewTicker(time.Second * readers / markReadRate)
						defer tick.Stop()
						for {
							select {
							case <-stop:
								return
							case <-tick.C:
							}
							if _, err := st.MoveReadSeq(context.Background(), testenv.General, u.ID, newest.Load(), false); err != nil {
								b.Error(err)
							}
							marked.Add(1)
						}
					}()
				}
			}
			var next atomic.Int64
			b.SetParallelism(senders / 2) // GOMAXPROCS × this goroutines; 2 cores → 10
			b.ResetTimer()
			marked.Store(0)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					seq := appendOne(b, st, users[readers+int(i)%senders], fmt.Sprintf("a%d", i))
					// What the readers have seen: the newest message, as
					// the events tell it.
					for n := newest.Load(); n < seq && !newest.CompareAndSwap(n, seq); n = newest.Load() {
					}
				}
			})
			elapsed := b.Elapsed().Seconds()
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(b.N)/elapsed, "msgs/s")
			b.ReportMetric(float64(marked.Load())/elapsed, "markreads/s")
		})
	}
}
