package app_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

func TestSendAndList(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		c.Signup(t, "sender_"+p.Name)
		room, err := c.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "history " + p.Name})
		if err != nil {
			t.Fatal(err)
		}
		id := room.GetRoom().GetId()
		for i := 1; i <= 7; i++ {
			m := c.Send(t, id, fmt.Sprintf("  message %d\n", i), fmt.Sprintf("h-%d", i))
			if m.GetSeq() != int64(i) || m.GetBody() != fmt.Sprintf("message %d", i) || m.GetSender().GetUsername() != "sender_"+p.Name {
				t.Fatalf("message %d stored as %v", i, m)
			}
		}
		page := func(req *chatv1.ListMessagesRequest) ([]int64, bool) {
			t.Helper()
			req.RoomId = id
			res, err := c.Messages.ListMessages(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, m := range res.GetMessages() {
				seqs = append(seqs, m.GetSeq())
			}
			return seqs, res.GetHasMore()
		}
		cases := []struct {
			name string
			req  *chatv1.ListMessagesRequest
			want string
			more bool
		}{
			{"Newest", &chatv1.ListMessagesRequest{}, "[1 2 3 4 5 6 7]", false},
			{"NewestLimited", &chatv1.ListMessagesRequest{Limit: 3}, "[5 6 7]", true},
			{"Before", &chatv1.ListMessagesRequest{BeforeSeq: 5, Limit: 3}, "[2 3 4]", true},
			{"BeforeToStart", &chatv1.ListMessagesRequest{BeforeSeq: 3, Limit: 3}, "[1 2]", false},
			{"FromStart", &chatv1.ListMessagesRequest{AfterSeq: proto.Int64(0), Limit: 2}, "[1 2]", true},
			{"After", &chatv1.ListMessagesRequest{AfterSeq: proto.Int64(2), Limit: 3}, "[3 4 5]", true},
			{"AfterToEnd", &chatv1.ListMessagesRequest{AfterSeq: proto.Int64(5)}, "[6 7]", false},
			{"Between", &chatv1.ListMessagesRequest{AfterSeq: proto.Int64(2), BeforeSeq: 5}, "[3 4]", false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				seqs, more := page(tc.req)
				if fmt.Sprint(seqs) != tc.want || more != tc.more {
					t.Fatalf("got %v has_more=%v, want %s has_more=%v", seqs, more, tc.want, tc.more)
				}
			})
		}
		t.Run("ErrLimitTooLarge", func(t *testing.T) {
			_, err := c.Messages.ListMessages(ctx, &chatv1.ListMessagesRequest{RoomId: id, Limit: 201})
			wantCode(t, err, connect.CodeInvalidArgument)
		})
	})
}

func TestSendIsIdempotent(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		c.Signup(t, "idem_"+p.Name)
		c.Join(t, testenv.General)
		first := c.Send(t, testenv.General, "once", "idem-"+p.Name)
		again := c.Send(t, testenv.General, "once", "idem-"+p.Name)
		if again.GetId() != first.GetId() || again.GetSeq() != first.GetSeq() {
			t.Fatalf("retry stored a second message: %v vs %v", first, again)
		}
		_, err := c.Messages.SendMessage(ctx, &chatv1.SendMessageRequest{RoomId: testenv.General, Body: "different", ClientMsgId: "idem-" + p.Name})
		wantCode(t, err, connect.CodeAlreadyExists)
		next := c.Send(t, testenv.General, "next", "idem-next-"+p.Name)
		if next.GetSeq() != first.GetSeq()+1 {
			t.Fatalf("seq after retries = %d, want %d", next.GetSeq(), first.GetSeq()+1)
		}
	})
}

func TestSendBadInput(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		c.Signup(t, "bad_"+p.Name)
		room, err := c.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "bad " + p.Name})
		if err != nil {
			t.Fatal(err)
		}
		id := room.GetRoom().GetId()
		cases := []struct {
			name string
			req  *chatv1.SendMessageRequest
			code connect.Code
		}{
			{"ErrBodyEmpty", &chatv1.SendMessageRequest{RoomId: id, Body: "", ClientMsgId: "a"}, connect.CodeInvalidArgument},
			{"ErrBodyBlank", &chatv1.SendMessageRequest{RoomId: id, Body: " \n\t ", ClientMsgId: "b"}, connect.CodeInvalidArgument},
			{"ErrBody4001", &chatv1.SendMessageRequest{RoomId: id, Body: strings.Repeat("é", 4001), ClientMsgId: "c"}, connect.CodeInvalidArgument},
			{"ErrControlChar", &chatv1.SendMessageRequest{RoomId: id, Body: "nul\x00byte", ClientMsgId: "d"}, connect.CodeInvalidArgument},
			{"ErrC1Control", &chatv1.SendMessageRequest{RoomId: id, Body: "csi\u009b31m", ClientMsgId: "d1"}, connect.CodeInvalidArgument},
			{"ErrInvisibleOnly", &chatv1.SendMessageRequest{RoomId: id, Body: "\u200b\u200c\u2060\ufeff", ClientMsgId: "d2"}, connect.CodeInvalidArgument},
			{"ErrNoClientID", &chatv1.SendMessageRequest{RoomId: id, Body: "hi"}, connect.CodeInvalidArgument},
			{"ErrRoomMissing", &chatv1.SendMessageRequest{RoomId: 424242, Body: "hi", ClientMsgId: "e"}, connect.CodeNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := c.Messages.SendMessage(ctx, tc.req)
				wantCode(t, err, tc.code)
			})
		}
		// A full 4,000-character message is fine, and nothing refused above
		// took a seq.
		m := c.Send(t, id, strings.Repeat("é", 4000), "full")
		if m.GetSeq() != 1 {
			t.Fatalf("first accepted message has seq %d, want 1", m.GetSeq())
		}
	})
}

func TestOversizedRequestIsRefused(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		c := testenv.NewClient(srv, p)
		c.Signup(t, "big_"+p.Name)
		_, err := c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: testenv.General, Body: strings.Repeat("x", 70<<10), ClientMsgId: "big"})
		wantCode(t, err, connect.CodeResourceExhausted)
	})
}

// TestConcurrentSendersGapless: 50 senders into one room end with seq 1..N,
// every acknowledged message stored exactly once.
func TestConcurrentSendersGapless(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	const senders, each = 50, 10
	clients := make([]*testenv.Client, senders)
	for i := range clients {
		clients[i] = testenv.NewClient(srv, testenv.Protocols[i%len(testenv.Protocols)])
		clients[i].Signup(t, fmt.Sprintf("conc%02d", i))
		clients[i].Join(t, testenv.General)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked = map[string]int64{}
	)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				body := fmt.Sprintf("from %d #%d", i, j)
				res, err := c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: testenv.General, Body: body, ClientMsgId: fmt.Sprintf("c%d-%d", i, j)})
				if err != nil {
					t.Errorf("send %q: %v", body, err)
					return
				}
				mu.Lock()
				acked[body] = res.GetMessage().GetSeq()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	stored := allMessages(t, clients[0], testenv.General)
	if len(stored) != senders*each {
		t.Fatalf("stored %d messages, want %d", len(stored), senders*each)
	}
	for i, m := range stored {
		if m.GetSeq() != int64(i+1) {
			t.Fatalf("position %d has seq %d: not gapless", i, m.GetSeq())
		}
		if acked[m.GetBody()] != m.GetSeq() {
			t.Fatalf("%q stored at seq %d but acknowledged as %d", m.GetBody(), m.GetSeq(), acked[m.GetBody()])
		}
	}
}

// TestConcurrentRetriesOneRow: many concurrent retries of one client_msg_id
// store one message and all get its seq.
func TestConcurrentRetriesOneRow(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Signup(t, "retrier")
	c.Join(t, testenv.General)
	const retries = 30
	seqs := make([]int64, retries)
	var wg sync.WaitGroup
	for i := range retries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Messages.SendMessage(context.Background(), &chatv1.SendMessageRequest{RoomId: testenv.General, Body: "retried", ClientMsgId: "same-id"})
			if err != nil {
				t.Errorf("retry %d: %v", i, err)
				return
			}
			seqs[i] = res.GetMessage().GetSeq()
		}()
	}
	wg.Wait()
	for i, s := range seqs {
		if s != 1 {
			t.Fatalf("retry %d got seq %d, want 1", i, s)
		}
	}
	if n := len(allMessages(t, c, testenv.General)); n != 1 {
		t.Fatalf("%d rows stored, want 1", n)
	}
}

func allMessages(t *testing.T, c *testenv.Client, roomID int64) []*chatv1.Message {
	t.Helper()
	var all []*chatv1.Message
	after := int64(0)
	for {
		res, err := c.Messages.ListMessages(context.Background(), &chatv1.ListMessagesRequest{RoomId: roomID, AfterSeq: proto.Int64(after), Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.GetMessages()...)
		if !res.GetHasMore() {
			return all
		}
		after = all[len(all)-1].GetSeq()
	}
}
