package app_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/app"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestStartupSaysWhatIsMissing: when a dependency is down or a setting is
// wrong, chatd says which, where it looked and what to do.
func TestStartupSaysWhatIsMissing(t *testing.T) {
	cases := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"ErrMySQLDown", map[string]string{"PARLEY_MYSQL_DSN": "root@tcp(127.0.0.1:1)/parley?parseTime=true"},
			[]string{"cannot reach MySQL at 127.0.0.1:1", "start it", "PARLEY_MYSQL_DSN"}},
		{"ErrRedisDown", map[string]string{"PARLEY_REDIS_URL": "redis://127.0.0.1:1/0"},
			[]string{"cannot reach Redis at redis://127.0.0.1:1/0", "redis-server", "PARLEY_REDIS_URL"}},
		{"ErrShortSecret", map[string]string{"PARLEY_JWT_SECRET": "short"},
			[]string{"PARLEY_JWT_SECRET must be at least 32 bytes"}},
		{"ErrBadRate", map[string]string{"PARLEY_LIMIT_SEND": "lots"},
			[]string{"PARLEY_LIMIT_SEND", "N/duration"}},
		{"ErrBadQueue", map[string]string{"PARLEY_SEND_QUEUE": "-3"},
			[]string{"PARLEY_SEND_QUEUE must be a positive number"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.ServerEnv(t)
			for k, v := range tc.set {
				env[k] = v
			}
			err := app.Run(context.Background(), nil, env.Getenv, io.Discard)
			if err == nil {
				t.Fatal("chatd started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
