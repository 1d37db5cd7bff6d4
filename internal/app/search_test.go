package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// search runs a query as c and returns the hits' bodies.
func search(t *testing.T, c *testenv.Client, req *chatv1.SearchMessagesRequest) ([]string, *chatv1.SearchMessagesResponse) {
	t.Helper()
	res, err := c.Messages.SearchMessages(context.Background(), req)
	if err != nil {
		t.Fatalf("search %q: %v", req.GetQuery(), err)
	}
	var bodies []string
	for _, h := range res.GetHits() {
		bodies = append(bodies, h.GetMessage().GetBody())
	}
	return bodies, res
}

func TestSearchMessages(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		r := newTimelineRoom(t, srv, p, "search")
		r.owner.Send(t, r.id, "我们说你好吧", "s-1")
		r.member.Send(t, r.id, "We shipped the deployment", "s-2")
		r.owner.Send(t, r.id, "東京タワーへ行く、안녕하세요", "s-3")
		t.Run("ChineseSubstring", func(t *testing.T) {
			bodies, res := search(t, r.member, &chatv1.SearchMessagesRequest{Query: "你好"})
			if !slices.Equal(bodies, []string{"我们说你好吧"}) {
				t.Fatalf("found %q", bodies)
			}
			h := res.GetHits()[0]
			if hl := h.GetHighlights(); len(hl) != 1 || hl[0].GetStart() != 3 || hl[0].GetEnd() != 5 || h.GetRoom().GetId() != r.id {
				t.Fatalf("hit %v", h)
			}
		})
		t.Run("EnglishPrefixAndFullWidth", func(t *testing.T) {
			bodies, res := search(t, r.owner, &chatv1.SearchMessagesRequest{Query: "ＤＥＰＬＯＹ"})
			if !slices.Equal(bodies, []string{"We shipped the deployment"}) {
				t.Fatalf("found %q", bodies)
			}
			if hl := res.GetHits()[0].GetHighlights(); len(hl) != 1 || hl[0].GetStart() != 15 || hl[0].GetEnd() != 21 {
				t.Fatalf("highlights %v", hl)
			}
		})
		t.Run("JapaneseAndKoreanMixed", func(t *testing.T) {
			if bodies, _ := search(t, r.member, &chatv1.SearchMessagesRequest{Query: "タワー 안녕"}); len(bodies) != 1 {
				t.Fatalf("found %q", bodies)
			}
		})
		t.Run("Filters", func(t *testing.T) {
			req := &chatv1.SearchMessagesRequest{Query: "你好", FromUserId: r.ownerID + 1_000_000}
			if bodies, _ := search(t, r.member, req); len(bodies) != 0 {
				t.Fatalf("a sender filter of nobody found %q", bodies)
			}
			req = &chatv1.SearchMessagesRequest{Query: "你好", RoomId: r.id, FromUserId: r.ownerID, Before: timestamppb.New(time.Now().Add(time.Minute))}
			if bodies, _ := search(t, r.member, req); len(bodies) != 1 {
				t.Fatalf("room, sender and before found %q", bodies)
			}
			req = &chatv1.SearchMessagesRequest{Query: "你好", After: timestamppb.New(time.Now().Add(time.Minute))}
			if bodies, _ := search(t, r.member, req); len(bodies) != 0 {
				t.Fatalf("after a future time found %q", bodies)
			}
		})
		t.Run("EditAndDelete", func(t *testing.T) {
			m := r.owner.Send(t, r.id, "rollback 计划", "s-4")
			if _, err := r.owner.Messages.EditMessage(ctx, &chatv1.EditMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq(), Body: "rollout 计划"}); err != nil {
				t.Fatal(err)
			}
			if bodies, _ := search(t, r.member, &chatv1.SearchMessagesRequest{Query: "rollback"}); len(bodies) != 0 {
				t.Fatalf("the edited-away word finds %q", bodies)
			}
			if bodies, _ := search(t, r.member, &chatv1.SearchMessagesRequest{Query: "rollout"}); len(bodies) != 1 {
				t.Fatalf("the edit's word finds %q", bodies)
			}
			if _, err := r.owner.Messages.DeleteMessage(ctx, &chatv1.DeleteMessageRequest{RoomId: r.id, MessageSeq: m.GetSeq()}); err != nil {
				t.Fatal(err)
			}
			if bodies, _ := search(t, r.member, &chatv1.SearchMessagesRequest{Query: "计划"}); len(bodies) != 0 {
				t.Fatalf("a deleted message is found: %q", bodies)
			}
		})
	})
}

func TestSearchOnlyTheCallersRooms(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		r := newTimelineRoom(t, srv, p, "seen")
		secret, err := r.owner.Rooms.CreateRoom(ctx, &chatv1.CreateRoomRequest{Name: "secret " + p.Name, Visibility: chatv1.Visibility_VISIBILITY_PRIVATE})
		if err != nil {
			t.Fatal(err)
		}
		left := newTimelineRoom(t, srv, p, "left")
		r.owner.Send(t, secret.GetRoom().GetId(), "secret 你好 plan", "p-1")
		left.owner.Send(t, left.id, "left 你好 plan", "p-2")
		r.owner.Send(t, r.id, "shared 你好 plan", "p-3")
		if _, err := left.member.Rooms.LeaveRoom(ctx, &chatv1.LeaveRoomRequest{RoomId: left.id}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*testenv.Client{r.member, left.member} {
			bodies, _ := search(t, c, &chatv1.SearchMessagesRequest{Query: "你好 plan"})
			if slices.Contains(bodies, "secret 你好 plan") || slices.Contains(bodies, "left 你好 plan") {
				t.Fatalf("found messages of rooms the caller is not in: %q", bodies)
			}
		}
		for _, room := range []int64{secret.GetRoom().GetId(), left.id} {
			_, err := left.member.Messages.SearchMessages(ctx, &chatv1.SearchMessagesRequest{Query: "plan", RoomId: room})
			wantCode(t, err, connect.CodeNotFound)
		}
	})
}

func TestSearchRefusesBadInput(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		c := testenv.NewClient(srv, p)
		c.Signup(t, "badsearch_"+p.Name)
		for _, req := range []*chatv1.SearchMessagesRequest{
			{Query: "a"}, {Query: "你"}, {Query: "\"+-*\" ()"}, {Query: ""},
			{Query: "plan", PageToken: "AAAA"}, {Query: "plan", PageToken: "not base64!"},
		} {
			t.Run(fmt.Sprintf("%q/%q", req.GetQuery(), req.GetPageToken()), func(t *testing.T) {
				_, err := c.Messages.SearchMessages(ctx, req)
				wantCode(t, err, connect.CodeInvalidArgument)
			})
		}
	})
}

func TestSearchPages(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		r := newTimelineRoom(t, srv, p, "pages")
		var want []string
		for i := range 5 {
			body := fmt.Sprintf("release %d", i)
			r.owner.Send(t, r.id, body, fmt.Sprintf("r-%d", i))
			want = append([]string{body}, want...)
		}
		r.owner.Send(t, r.id, "a much longer message that mentions the release only once among many words", "r-long")
		req := &chatv1.SearchMessagesRequest{Query: "release", RoomId: r.id, Limit: 2}
		var got []string
		for range 4 {
			bodies, res := search(t, r.member, req)
			got = append(got, bodies...)
			if res.GetNextPageToken() == "" {
				break
			}
			req.PageToken = res.GetNextPageToken()
		}
		if want = append([]string{"a much longer message that mentions the release only once among many words"}, want...); !slices.Equal(got, want) {
			t.Fatalf("pages gave %q, want %q", got, want)
		}
		t.Run("TokenOfAnotherQuery", func(t *testing.T) {
			_, err := r.member.Messages.SearchMessages(ctx, &chatv1.SearchMessagesRequest{Query: "releases", RoomId: r.id, PageToken: req.GetPageToken()})
			wantCode(t, err, connect.CodeInvalidArgument)
		})
		t.Run("Relevance", func(t *testing.T) {
			bodies, _ := search(t, r.member, &chatv1.SearchMessagesRequest{Query: "release", RoomId: r.id, Order: chatv1.SearchOrder_SEARCH_ORDER_RELEVANCE})
			if len(bodies) != 6 || bodies[0] != "release 4" || bodies[5] != want[0] {
				t.Fatalf("by relevance %q: the short ones first, newest first among equals", bodies)
			}
		})
	})
}

func TestListMessagesAround(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, srv *testenv.Server, p testenv.Protocol) {
		ctx := context.Background()
		r := newTimelineRoom(t, srv, p, "around")
		for i := range 10 {
			r.owner.Send(t, r.id, fmt.Sprintf("m%d", i), fmt.Sprintf("a-%d", i))
		}
		var hit *chatv1.Message
		for _, m := range allMessages(t, r.member, r.id) {
			if m.GetBody() == "m5" {
				hit = m
			}
		}
		res, err := r.member.Messages.ListMessages(ctx, &chatv1.ListMessagesRequest{RoomId: r.id, AroundSeq: hit.GetSeq(), Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, m := range res.GetMessages() {
			bodies = append(bodies, m.GetBody())
		}
		// Half the limit up to and with the hit, half after it.
		if !slices.Equal(bodies, []string{"m4", "m5", "m6", "m7"}) || !res.GetHasMore() {
			t.Fatalf("around m5 with limit 4: %q, has_more %v", bodies, res.GetHasMore())
		}
		_, err = r.member.Messages.ListMessages(ctx, &chatv1.ListMessagesRequest{RoomId: r.id, AroundSeq: hit.GetSeq(), BeforeSeq: 3})
		wantCode(t, err, connect.CodeInvalidArgument)
	})
}
