package push_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// serverDB is one session on srv's own database, for a test that changes
// what chatd finds there (a lock, a missing table).
func serverDB(tb testing.TB, srv *testenv.Server) *sql.Conn {
	tb.Helper()
	db, err := sql.Open("mysql", srv.Env["PARLEY_MYSQL_DSN"])
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

func execSQL(tb testing.TB, conn *sql.Conn, query string) {
	tb.Helper()
	if _, err := conn.ExecContext(context.Background(), query); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// waitLockedRead waits until a query of chatd waits for the lock on the
// messages table that db holds: the resume's read has started.
func waitLockedRead(tb testing.TB, db *sql.Conn) {
	tb.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		var n int
		err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND STATE LIKE '%lock%' AND INFO LIKE '%messages%'`).Scan(&n)
		if err != nil {
			tb.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no read of the messages table waited for its lock within %s", waitFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func typingIn(room, uid int64) func(*chatv1.Event) bool {
	return func(ev *chatv1.Event) bool {
		return ev.GetTyping() != nil && ev.GetTyping().GetUserId() == uid && ev.GetRoomId() == room
	}
}

func sendTyping(tb testing.TB, c *testenv.Client, room int64) {
	tb.Helper()
	if _, err := c.Messages.SendTyping(context.Background(), &chatv1.SendTypingRequest{RoomId: room}); err != nil {
		tb.Fatal(err)
	}
}

// TestResumeHoldsOnlyItsRoom: while a resume frame's room is read from the
// store, that room's live events wait and every other room's keep flowing.
// With the messages table locked the replay cannot be read: a typing event
// of another room arrives meanwhile, one of the resumed room does not; once
// the table is free, the replay comes, then the event that waited.
func TestResumeHoldsOnlyItsRoom(t *testing.T) {
	// The locked read must outlast the test's waits, not fail after 1 s.
	srv := startServer(t, map[string]string{"PARLEY_MYSQL_TIMEOUT": "60s"})
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	other := createRoom(t, alice, "other", chatv1.Visibility_VISIBILITY_PUBLIC)
	bob.Join(t, other)
	aliceID := userID(t, alice)
	base := lastSeq(t, bob, testenv.General)
	if err := sendAll(alice, testenv.General, 20, 1, "missed"); err != nil {
		t.Fatal(err)
	}
	last := lastSeq(t, bob, testenv.General)
	l, _ := openWS(t, srv, bob)

	db := serverDB(t, srv)
	execSQL(t, db, "LOCK TABLES messages WRITE")
	locked := true
	t.Cleanup(func() {
		if locked {
			execSQL(t, db, "UNLOCK TABLES")
		}
	})
	l.send(t, resumeFrame(testenv.General, base))
	waitLockedRead(t, db)
	sendTyping(t, alice, testenv.General)
	sendTyping(t, alice, other)
	l.waitEvent(t, "typing in the other room while General is replayed", typingIn(other, aliceID))
	l.noEvent(t, quiet, "an event of General before its replay", func(ev *chatv1.Event) bool {
		return ev.GetRoomId() == testenv.General && (ev.GetTyping() != nil || ev.GetMessageCreated() != nil)
	})

	execSQL(t, db, "UNLOCK TABLES")
	locked = false
	wantSeqs(t, l.messagesUpTo(t, testenv.General, last, waitFor), base+1, last)
	l.waitEvent(t, "typing in General after its replay", typingIn(testenv.General, aliceID))
}

// TestResumeStoreFailure: a resume that MySQL fails (its messages table is
// gone) reaches the WebSocket client as internal, with a sentence that says
// nothing of MySQL but names the connection, under whose id the log has the
// driver's error. Whether the cursor came in the auth frame or a resume
// frame.
func TestResumeStoreFailure(t *testing.T) {
	srv := startServer(t, nil)
	alice, bob := member(t, srv, "alice"), member(t, srv, "bob")
	alice.Send(t, testenv.General, "to replay", "replay-1")
	db := serverDB(t, srv)
	execSQL(t, db, "RENAME TABLE messages TO messages_gone")
	t.Cleanup(func() { execSQL(t, db, "RENAME TABLE messages_gone TO messages") })

	cursor := &chatv1.RoomCursor{RoomId: testenv.General, AfterSeq: 0}
	open := map[string]func(t *testing.T) *live{
		"AuthFrame": func(t *testing.T) *live { l, _ := openWSResuming(t, srv, bob, cursor); return l },
		"ResumeFrame": func(t *testing.T) *live {
			l, _ := openWS(t, srv, bob)
			l.send(t, resumeFrame(testenv.General, 0))
			return l
		},
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			l := open(t)
			var e *chatv1.Error
			for e == nil {
				f := l.next(t, waitFor)
				if f == nil {
					t.Fatalf("connection ended (%v) without an error frame", l.err)
				}
				if f.GetEvent().GetMessageCreated() != nil {
					t.Fatalf("replayed %v from a missing table", f.GetEvent())
				}
				e = f.GetError()
			}
			if e.GetCode() != "internal" {
				t.Fatalf("got error %v, want internal", e)
			}
			for _, leak := range []string{"messages", "1146", "exist", "Error", "mysql", "SELECT"} {
				if strings.Contains(e.GetMessage(), leak) {
					t.Errorf("error message %q contains %q", e.GetMessage(), leak)
				}
			}
			_, connID, ok := strings.Cut(e.GetMessage(), "under connection id ")
			if !ok || connID == "" {
				t.Fatalf("error message %q names no connection", e.GetMessage())
			}
			if !srv.Logs.Wait(`"conn_id":"`+connID+`"`, waitFor) {
				t.Fatalf("no log line for connection %s", connID)
			}
			for _, line := range srv.Logs.Lines() {
				if strings.Contains(line, `"conn_id":"`+connID+`"`) && strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, "messages") {
					return
				}
			}
			t.Fatalf("the log has no ERROR line with connection %s and the driver's error:\n%s", connID, strings.Join(srv.Logs.Lines(), "\n"))
		})
	}
}
