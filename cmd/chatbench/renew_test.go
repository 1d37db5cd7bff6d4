package main

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestKeeperRenewsExpiringTokens: a sender whose token is about to lapse
// gets a fresh one that the server accepts, and the old session's refresh
// token is rotated away, so an hour-long run keeps sending.
func TestKeeperRenewsExpiringTokens(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	c := newCalls(newHTTPClient(false, 1), srv.URL)
	ctx := context.Background()
	u := benchUser{Name: "renewer"}
	if err := c.authenticate(ctx, &u, false, &setupStats{}); err != nil {
		t.Fatal(err)
	}
	k := newKeeper([]benchUser{u})

	first, err := k.access(ctx, c, 0)
	if err != nil || first != u.Access || k.renewed.Load() != 0 {
		t.Fatalf("a fresh token was renewed or changed: renewed %d, err %v", k.renewed.Load(), err)
	}

	k.expires[0] = time.Now().Add(renewBefore / 2) // as if 14.5 minutes had passed
	second, err := k.access(ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	if k.renewed.Load() != 1 {
		t.Fatalf("token not renewed: renewed %d", k.renewed.Load())
	}
	if time.Until(k.expires[0]) < 10*time.Minute {
		t.Errorf("renewed token expires in %v", time.Until(k.expires[0]))
	}
	if k.users[0].Refresh == u.Refresh {
		t.Error("the refresh token was not rotated")
	}
	_, err = c.list.CallUnary(ctx, withToken(&chatv1.ListRoomsRequest{}, second))
	if err != nil {
		t.Errorf("the renewed token is refused: %v", err)
	}
	_, err = c.refresh.CallUnary(ctx, connect.NewRequest(&chatv1.RefreshRequest{RefreshToken: u.Refresh}))
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("the spent refresh token: err %v, want unauthenticated", err)
	}
}
