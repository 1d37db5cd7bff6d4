package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

// benchStore opens a store on a database of the benchmark's own, with
// senders users, all members of the general room.
func benchStore(b *testing.B, senders int) (*store.Store, []chat.User) {
	b.Helper()
	st, err := store.Open(context.Background(), testenv.MySQLDSN(b), time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	users := make([]chat.User, senders)
	for i := range users {
		name := fmt.Sprintf("b%03d", i)
		users[i], err = st.CreateUser(context.Background(), chat.User{Username: name, Email: name + "@example.com", DisplayName: name, CreatedAt: time.Now().UTC()}, "hash")
		if err != nil {
			b.Fatal(err)
		}
		join(b, st, users[i].ID, testenv.General)
	}
	return st, users
}

func appendOne(b *testing.B, st *store.Store, u chat.User, id string) int64 {
	m, created, err := st.AppendMessage(context.Background(), chat.NewMessage{
		RoomID: testenv.General, SenderID: u.ID, Body: "benchmark message body of a typical length, about sixty bytes",
		ClientMsgID: id, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	})
	if err != nil || !created {
		b.Errorf("append %s: created %v, %v", id, created, err)
	}
	return m.Seq
}

// BenchmarkAppendMessageSerial is one sender: each op is a durable commit.
func BenchmarkAppendMessageSerial(b *testing.B) {
	st, users := benchStore(b, 1)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		appendOne(b, st, users[0], fmt.Sprintf("s%d", i))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendMessageConcurrentOneRoom is 50 senders in one room, the
// case the room row lock serialises.
func BenchmarkAppendMessageConcurrentOneRoom(b *testing.B) {
	const senders = 50
	st, users := benchStore(b, senders)
	var next atomic.Int64
	b.SetParallelism((senders + 1) / 2) // GOMAXPROCS × this goroutines; 2 cores → 50
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			appendOne(b, st, users[i%senders], fmt.Sprintf("c%d", i))
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	last, err := st.LastSeqs(context.Background(), []int64{testenv.General})
	if err != nil || last[testenv.General] != next.Load() {
		b.Fatalf("last seq %v (%v), want %d: seqs must stay gapless", last, err, next.Load())
	}
}

// BenchmarkMessagesAfter1000 is the resume path: one read of 1,000 missed
// messages.
func BenchmarkMessagesAfter1000(b *testing.B) {
	const missed = 1000
	st, users := benchStore(b, 1)
	for i := range missed {
		appendOne(b, st, users[0], fmt.Sprintf("r%d", i))
	}
	b.ResetTimer()
	for b.Loop() {
		msgs, err := st.MessagesAfter(context.Background(), 0, testenv.General, 0, missed)
		if err != nil || len(msgs) != missed {
			b.Fatalf("%d messages, %v", len(msgs), err)
		}
	}
	b.ReportMetric(float64(b.N*missed)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendMessageManyRooms is 100 senders, each in a room of its
// own: no batching within a room, so it measures how well MySQL's own group
// commit shares fsyncs between concurrent transactions.
func BenchmarkAppendMessageManyRooms(b *testing.B) {
	const senders = 100
	st, users := benchStore(b, senders)
	rooms := make([]int64, senders)
	for i, u := range users {
		r, _, err := st.CreateRoom(context.Background(), chat.NewRoom{Name: fmt.Sprintf("r%03d", i), Visibility: chat.Public, OwnerID: u.ID})
		if err != nil {
			b.Fatal(err)
		}
		rooms[i] = r.ID
	}
	var next atomic.Int64
	b.SetParallelism(senders / 2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)-1) % senders // one room per goroutine
		for k := 0; pb.Next(); k++ {
			_, _, err := st.AppendMessage(context.Background(), chat.NewMessage{
				RoomID: rooms[i], SenderID: users[i].ID, Body: "benchmark message body of a typical length, about sixty bytes",
				ClientMsgID: fmt.Sprintf("m%d-%d", i, k), CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
			})
			if err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
