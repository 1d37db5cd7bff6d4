package app_test

import (
	"io"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/app"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestTimeoutsAndCapsAreChecked: a zero or malformed timeout or connection
// cap would turn a limit off or make every call fail; chatd refuses to
// start and names the variable.
func TestTimeoutsAndCapsAreChecked(t *testing.T) {
	for _, name := range []string{
		"PARLEY_READ_TIMEOUT", "PARLEY_WRITE_TIMEOUT", "PARLEY_IDLE_TIMEOUT",
		"PARLEY_MYSQL_TIMEOUT", "PARLEY_REDIS_TIMEOUT", "PARLEY_MAX_CONNS_PER_IP",
	} {
		for _, v := range []string{"0", "soon"} {
			t.Run(name+"="+v, func(t *testing.T) {
				_, err := app.ParseConfig(nil, testenv.Env{name: v}.Getenv, io.Discard)
				if err == nil || !strings.Contains(err.Error(), name+" must be a positive") {
					t.Fatalf("%s=%s: got %v, want an error naming it", name, v, err)
				}
			})
		}
	}
}
