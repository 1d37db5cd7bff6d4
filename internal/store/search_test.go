package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/search"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/testenv"
)

// searchFixture is a store with a room of ann's and messages in it.
type searchFixture struct {
	dsn  string
	st   *store.Store
	ann  chat.User
	room chat.Room
	n    int
}

func newSearchFixture(t *testing.T) *searchFixture {
	t.Helper()
	dsn := testenv.MySQLDSN(t)
	st := open(t, dsn)
	ann := newUser(t, st, "ann")
	return &searchFixture{dsn: dsn, st: st, ann: ann, room: newRoom(t, st, "ann's", ann)}
}

func newRoom(t *testing.T, st *store.Store, name string, owner chat.User) chat.Room {
	t.Helper()
	r, _, err := st.CreateRoom(context.Background(), chat.NewRoom{Name: name, Visibility: chat.Private, OwnerID: owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// post stores a message and returns its seq.
func (f *searchFixture) post(t *testing.T, roomID int64, from chat.User, body string) int64 {
	t.Helper()
	f.n++
	m, _, err := f.st.AppendMessage(context.Background(), chat.NewMessage{
		RoomID: roomID, SenderID: from.ID, Body: body, ClientMsgID: fmt.Sprintf("c%d", f.n), CreatedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m.Seq
}

// find is the bodies of ann's candidates for the query, newest first.
func (f *searchFixture) find(t *testing.T, query string) []string {
	t.Helper()
	q, err := search.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.st.SearchMessages(context.Background(), chat.SearchSpec{UserID: f.ann.ID, Lookups: q.Lookups, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	cands := page.Candidates
	var out []string
	for _, c := range cands {
		if _, ok := search.Match(search.Normalize(c.Message.Body), q); ok {
			out = append(out, c.Message.Body)
		}
	}
	return out
}

func TestSearchFindsCJKAndEnglish(t *testing.T) {
	f := newSearchFixture(t)
	for _, b := range []string{"我们说你好吧", "你说好", "We shipped the deployment", "redeploy later", "東京タワーへ行く", "안녕하세요 여러분", "ＤＥＰＬＯＹ ok"} {
		f.post(t, f.room.ID, f.ann, b)
	}
	for query, want := range map[string][]string{
		"你好":     {"我们说你好吧"},
		"deploy": {"ＤＥＰＬＯＹ ok", "We shipped the deployment"},
		"タワー":    {"東京タワーへ行く"},
		"안녕":     {"안녕하세요 여러분"},
		"说":      nil, // one character: Parse refuses it, checked below
	} {
		if query == "说" {
			if _, err := search.Parse(query); err == nil {
				t.Errorf("a one-character query was accepted")
			}
			continue
		}
		if got := f.find(t, query); !slices.Equal(got, want) {
			t.Errorf("%q found %q, want %q", query, got, want)
		}
	}
}

func TestSearchFollowsEditsAndDeletes(t *testing.T) {
	f := newSearchFixture(t)
	seq := f.post(t, f.room.ID, f.ann, "the old plan")
	gone := f.post(t, f.room.ID, f.ann, "plan 你好 to delete")
	change(t, f.st, chat.Change{Kind: chat.MessageEdited, RoomID: f.room.ID, MessageSeq: seq, UserID: f.ann.ID, Body: "新的计划 plan"})
	deleteMessage(t, f.st, f.room.ID, gone, f.ann)
	if got := f.find(t, "old"); len(got) != 0 {
		t.Errorf("the edited-away word still finds %q", got)
	}
	if got := f.find(t, "计划"); !slices.Equal(got, []string{"新的计划 plan"}) {
		t.Errorf("the edit's new text finds %q", got)
	}
	if got := f.find(t, "你好"); len(got) != 0 {
		t.Errorf("a deleted message is still found: %q", got)
	}
	if got := f.find(t, "plan"); !slices.Equal(got, []string{"新的计划 plan"}) {
		t.Errorf("plan finds %q, want only the edited message", got)
	}
}

func TestSearchOnlyRoomsOfTheCallerNow(t *testing.T) {
	f := newSearchFixture(t)
	bo := newUser(t, f.st, "bo")
	private := newRoom(t, f.st, "bo's secret", bo)
	left := newRoom(t, f.st, "left", bo)
	if _, _, err := f.st.AddMember(context.Background(), left.ID, f.ann.ID, chat.Member); err != nil {
		t.Fatal(err)
	}
	f.post(t, private.ID, bo, "secret rollout")
	f.post(t, left.ID, bo, "rollout in the left room")
	f.post(t, f.room.ID, f.ann, "my rollout")
	if _, err := f.st.RemoveMember(context.Background(), left.ID, f.ann.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.find(t, "rollout"); !slices.Equal(got, []string{"my rollout"}) {
		t.Errorf("ann found %q, want only her own room's message", got)
	}
}

func TestSearchPagesByKey(t *testing.T) {
	f := newSearchFixture(t)
	for i := range 5 {
		f.post(t, f.room.ID, f.ann, fmt.Sprintf("release %d", i))
	}
	q, _ := search.Parse("release")
	var got []string
	spec := chat.SearchSpec{UserID: f.ann.ID, Lookups: q.Lookups, Limit: 2}
	for range 4 {
		page, err := f.st.SearchMessages(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		cands := page.Candidates
		for _, c := range cands {
			got = append(got, c.Message.Body)
		}
		if len(cands) < spec.Limit {
			break
		}
		spec.From = &cands[len(cands)-1].Key
	}
	want := []string{"release 4", "release 3", "release 2", "release 1", "release 0"}
	if !slices.Equal(got, want) {
		t.Fatalf("pages gave %q, want %q", got, want)
	}
}

// TestSearchIndexesTheBacklog: messages stored before the index existed
// (their terms removed and the mark set above them, as the migration
// leaves an upgraded database) are found once the backlog is worked off.
func TestSearchIndexesTheBacklog(t *testing.T) {
	f := newSearchFixture(t)
	for i := range 5 {
		f.post(t, f.room.ID, f.ann, fmt.Sprintf("old 消息 %d", i))
	}
	db := rawDB(t, f.dsn)
	for _, q := range []string{"DELETE FROM message_terms", "UPDATE search_backlog SET below = (SELECT MAX(id) + 1 FROM messages)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.find(t, "消息"); len(got) != 0 {
		t.Fatalf("found %q before indexing", got)
	}
	rounds := 0
	for left := true; left; rounds++ {
		var err error
		if left, err = f.st.IndexBacklog(context.Background(), 2); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.find(t, "消息"); len(got) != 5 || rounds != 3 {
		t.Fatalf("after %d rounds found %q, want all 5 in 3 rounds", rounds, got)
	}
	if left, err := f.st.IndexBacklog(context.Background(), 2); left || err != nil {
		t.Fatalf("an empty backlog: left %v, %v", left, err)
	}
}

// TestSearchFindsWhatAScanFinds: over generated English and Chinese
// messages in rooms ann is and is not in, each query's hits (all pages,
// both orders) are exactly the messages a scan of her rooms matches.
func TestSearchFindsWhatAScanFinds(t *testing.T) {
	f := newSearchFixture(t)
	bo := newUser(t, f.st, "bo")
	rooms := []chat.Room{f.room, newRoom(t, f.st, "second", f.ann), newRoom(t, f.st, "not ann's", bo)}
	r := rand.New(rand.NewPCG(1, 2))
	var mine []string
	for i := range 300 {
		room := rooms[i%3]
		from := f.ann
		if room.ID == rooms[2].ID {
			from = bo
		}
		body := genBody(r)
		f.post(t, room.ID, from, body)
		if room.ID != rooms[2].ID {
			mine = append(mine, body)
		}
	}
	svc := chat.NewService(f.st, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, query := range []string{"deploy", "database migration", "rollback staging", "你好", "服务器", "数据库迁移", "部署 deploy", "de", "我们 te"} {
		q, _ := search.Parse(query)
		want := 0
		for _, b := range mine {
			if _, ok := search.Match(search.Normalize(b), q); ok {
				want++
			}
		}
		for _, order := range []chat.SearchOrder{chat.SearchNewest, chat.SearchRelevance} {
			req := chat.SearchRequest{Query: query, Order: order, Limit: 7}
			seen := map[int64]bool{}
			for {
				hits, next, err := svc.SearchMessages(context.Background(), f.ann.ID, req)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hits {
					if seen[h.Message.ID] || h.Room.ID == rooms[2].ID {
						t.Fatalf("%q order %d: message %d twice or of bo's room", query, order, h.Message.ID)
					}
					seen[h.Message.ID] = true
				}
				if next == "" {
					break
				}
				req.PageToken = next
			}
			if len(seen) != want {
				t.Errorf("%q order %d: %d hits, a scan finds %d", query, order, len(seen), want)
			}
		}
	}
}

// TestSearchHitsOfSeveralRooms: a page's messages come from their own rooms
// with their own reactions, quotes and mentions, though they are read for
// all rooms at once and the rooms share seqs.
func TestSearchHitsOfSeveralRooms(t *testing.T) {
	f := newSearchFixture(t)
	ctx := context.Background()
	other := newRoom(t, f.st, "other", f.ann)
	first := f.post(t, f.room.ID, f.ann, "release one")
	second := f.post(t, other.ID, f.ann, "release two")
	if first != second {
		t.Fatalf("the rooms' first seqs differ (%d, %d): the case needs them equal", first, second)
	}
	m, _, err := f.st.AppendMessage(ctx, chat.NewMessage{RoomID: other.ID, SenderID: f.ann.ID, Body: "release three @ann",
		ClientMsgID: "reply", CreatedAt: time.Now().UTC(), ReplyToSeq: second, Mentions: mentioning(f.ann.ID)})
	if err != nil {
		t.Fatal(err)
	}
	change(t, f.st, chat.Change{Kind: chat.ReactionAdded, RoomID: f.room.ID, MessageSeq: first, UserID: f.ann.ID, Emoji: "🎉"})
	q, err := search.Parse("release")
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.st.SearchMessages(ctx, chat.SearchSpec{UserID: f.ann.ID, Lookups: q.Lookups, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	cands := page.Candidates
	got := map[string]chat.Message{}
	for _, c := range cands {
		if c.Message.RoomID != c.Key.RoomID || c.Message.Seq != c.Key.Seq {
			t.Errorf("candidate %+v holds message %d/%d", c.Key, c.Message.RoomID, c.Message.Seq)
		}
		got[c.Message.Body] = c.Message
	}
	if len(got) != 3 {
		t.Fatalf("found %d messages, want 3: %v", len(got), got)
	}
	if r := got["release one"].Reactions; len(r) != 1 || r[0].Emoji != "🎉" || !r[0].Me {
		t.Errorf("release one's reactions: %+v", r)
	}
	if r := got["release two"].Reactions; len(r) != 0 {
		t.Errorf("release two (same seq, other room) got reactions %+v", r)
	}
	three := got["release three @ann"]
	if three.ReplyTo == nil || three.ReplyTo.Excerpt != "release two" || !slices.Equal(three.MentionUserIDs, []int64{f.ann.ID}) || three.Seq != m.Seq {
		t.Errorf("release three: reply %+v, mentions %v", three.ReplyTo, three.MentionUserIDs)
	}
}

// TestSearchByRelevanceWidensItsWindow: two words common alone and found
// together only in old messages, past the newest rows that a search by
// relevance ranks at first, are still found, and the next page keeps the
// window its first page widened to.
func TestSearchByRelevanceWidensItsWindow(t *testing.T) {
	f := newSearchFixture(t)
	ctx := context.Background()
	var bodies []string
	for i := range 3 {
		bodies = append(bodies, fmt.Sprintf("alpha beta together %d", i))
	}
	for i := range 1300 {
		bodies = append(bodies, fmt.Sprintf("alpha alone %d", i), fmt.Sprintf("beta alone %d", i))
	}
	bodies = append(bodies, "beta alone at last") // beta is the commoner: alpha drives
	postAll(t, f, bodies)
	svc := chat.NewService(f.st, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	req := chat.SearchRequest{Query: "alpha beta", Order: chat.SearchRelevance, Limit: 2}
	first, next, err := svc.SearchMessages(ctx, f.ann.ID, req)
	if err != nil || len(first) != 2 || next == "" {
		t.Fatalf("first page: %d hits, token %q, %v; want 2 and a token", len(first), next, err)
	}
	req.PageToken = next
	second, next, err := svc.SearchMessages(ctx, f.ann.ID, req)
	if err != nil || len(second) != 1 || next != "" {
		t.Fatalf("second page: %d hits, token %q, %v; want the third and no token", len(second), next, err)
	}
	var got []string
	for _, h := range append(first, second...) {
		got = append(got, h.Message.Body)
	}
	slices.Sort(got)
	if !slices.Equal(got, bodies[:3]) {
		t.Errorf("found %q, want %q", got, bodies[:3])
	}
}

// postAll stores the bodies in their order, in concurrent batches as
// many senders' would be.
func postAll(t *testing.T, f *searchFixture, bodies []string) {
	t.Helper()
	const batch = 50
	for start := 0; start < len(bodies); start += batch {
		var wg sync.WaitGroup
		end := min(start+batch, len(bodies))
		for i := start; i < end; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := f.st.AppendMessage(context.Background(), chat.NewMessage{RoomID: f.room.ID, SenderID: f.ann.ID,
					Body: bodies[i], ClientMsgID: fmt.Sprintf("all%d", i), CreatedAt: time.Now().UTC()})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
}
