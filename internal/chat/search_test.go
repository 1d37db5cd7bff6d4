package chat_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// searchStore answers index lookups with every message of one room,
// newest first, as an index that matched them all would: the service must
// keep only true matches. What the tests do not use of chat.Store panics.
type searchStore struct {
	chat.Store
	bodies []string // seq i+1, oldest first
	calls  int
}

func (s *searchStore) SearchMessages(_ context.Context, spec chat.SearchSpec) (chat.SearchPage, error) {
	s.calls++
	var out []chat.SearchCandidate
	for i := len(s.bodies) - 1; i >= 0 && len(out) < spec.Limit; i-- {
		seq := int64(i + 1)
		if spec.From != nil && seq >= spec.From.Seq {
			continue
		}
		k := chat.SearchKey{CreatedAt: time.Unix(seq, 0), RoomID: 1, Seq: seq}
		out = append(out, chat.SearchCandidate{Key: k, Message: chat.Message{RoomID: 1, Seq: seq, Body: s.bodies[i]}})
	}
	return chat.SearchPage{Candidates: out}, nil
}

func (s *searchStore) Role(_ context.Context, roomID, _ int64) (chat.Role, error) {
	if roomID != 1 {
		return 0, chat.ErrNotFound
	}
	return chat.Member, nil
}

func (s *searchStore) RoomsFor(_ context.Context, _ int64, roomIDs []int64) ([]chat.Room, []chat.Role, error) {
	var rooms []chat.Room
	var roles []chat.Role
	for _, id := range roomIDs {
		rooms, roles = append(rooms, chat.Room{ID: id, Visibility: chat.Private}), append(roles, chat.Member)
	}
	return rooms, roles, nil
}

func searchService(bodies ...string) (*chat.Service, *searchStore) {
	st := &searchStore{bodies: bodies}
	return chat.NewService(st, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil))), st
}

func bodiesOf(hits []chat.SearchHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Message.Body)
	}
	return out
}

func TestSearchKeepsOnlyTrueMatches(t *testing.T) {
	svc, _ := searchService("你好", "你 好", "好你", "说你好吧", "deployment", "redeploy")
	for q, want := range map[string][]string{
		"你好":     {"说你好吧", "你好"},
		"deploy": {"deployment"},
	} {
		hits, next, err := svc.SearchMessages(context.Background(), 7, chat.SearchRequest{Query: q})
		if err != nil || next != "" || !slices.Equal(bodiesOf(hits), want) {
			t.Errorf("%q: %q, next %q, %v; want %q", q, bodiesOf(hits), next, err, want)
		}
	}
}

func TestSearchPagesWithToken(t *testing.T) {
	svc, _ := searchService("plan 1", "noise", "plan 2", "noise", "plan 3")
	req := chat.SearchRequest{Query: "plan", Limit: 2}
	hits, next, err := svc.SearchMessages(context.Background(), 7, req)
	if err != nil || next == "" || !slices.Equal(bodiesOf(hits), []string{"plan 3", "plan 2"}) {
		t.Fatalf("first page %q, next %q, %v", bodiesOf(hits), next, err)
	}
	req.PageToken = next
	hits, next, err = svc.SearchMessages(context.Background(), 7, req)
	if err != nil || next != "" || !slices.Equal(bodiesOf(hits), []string{"plan 1"}) {
		t.Fatalf("second page %q, next %q, %v", bodiesOf(hits), next, err)
	}
	t.Run("ErrTokenOfAnotherQuery", func(t *testing.T) {
		_, tok, _ := svc.SearchMessages(context.Background(), 7, chat.SearchRequest{Query: "plan", Limit: 1})
		_, _, err := svc.SearchMessages(context.Background(), 7, chat.SearchRequest{Query: "noise", PageToken: tok})
		if !errors.Is(err, chat.ErrInvalid) {
			t.Fatalf("a token of another query: %v", err)
		}
	})
}

func TestSearchBoundsTheWorkOfOneRequest(t *testing.T) {
	bodies := make([]string, 500)
	for i := range bodies {
		bodies[i] = "noise"
	}
	bodies[0] = "needle"
	svc, st := searchService(bodies...)
	hits, next, err := svc.SearchMessages(context.Background(), 7, chat.SearchRequest{Query: "needle", Limit: 5})
	if err != nil || len(hits) != 0 || next == "" || st.calls > 10 {
		t.Fatalf("%d hits, next %q, %d store calls, %v: want an early page with a token", len(hits), next, st.calls, err)
	}
}

func TestSearchRefuses(t *testing.T) {
	svc, _ := searchService("x")
	for name, req := range map[string]chat.SearchRequest{
		"ErrOneCharacter":  {Query: "好"},
		"ErrOnlyOperators": {Query: `"" + - * ( )`},
		"ErrForgedToken":   {Query: "plan", PageToken: "AAAAAAAA"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := svc.SearchMessages(context.Background(), 7, req); !errors.Is(err, chat.ErrInvalid) {
				t.Fatalf("%+v: %v, want invalid", req, err)
			}
		})
	}
	t.Run("ErrRoomNotAMemberOf", func(t *testing.T) {
		if _, _, err := svc.SearchMessages(context.Background(), 7, chat.SearchRequest{Query: "plan", RoomID: 2}); !errors.Is(err, chat.ErrNotFound) {
			t.Fatalf("%v, want not found", err)
		}
	})
}
