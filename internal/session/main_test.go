package session_test

import (
	"os"
	"testing"

	"github.com/parley-chat/parley/internal/testenv"
)

// TestMain stops the Redis Cluster the tests share.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
