package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestRequestIDInHeaderAndLogs: a client that reports a failure can quote
// the X-Request-Id it got, and the server's log line for it carries the same
// id, without the token.
func TestRequestIDInHeaderAndLogs(t *testing.T) {
	srv := testenv.Start(t, testenv.ServerEnv(t))
	c := testenv.NewClient(srv, testenv.Protocols[0])
	c.Token = "secret-looking-token"
	_, err := c.Rooms.ListRooms(context.Background(), &chatv1.ListRoomsRequest{})
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want a refusal, got %v", err)
	}
	id := ce.Meta().Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id header on the response")
	}
	eventually(t, 5*time.Second, "a log line with the request id", func() bool {
		for _, line := range srv.Logs.Lines() {
			if strings.Contains(line, `"request_id":"`+id+`"`) {
				if strings.Contains(line, "secret-looking-token") {
					t.Fatalf("the token was logged: %s", line)
				}
				return true
			}
		}
		return false
	})
}
