package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// tourTimeout allows for the first build of the pinned grpcurl and buf.
const tourTimeout = 8 * time.Minute

var shellBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// TestReadmeTour runs the README's tour, exactly as written, against a live
// server, and checks what a person following it would see.
func TestReadmeTour(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, tour, ok := strings.Cut(string(readme), "<!-- tour:start -->")
	tour, _, ok2 := strings.Cut(tour, "<!-- tour:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no tour markers")
	}
	var script strings.Builder
	for _, m := range shellBlock.FindAllStringSubmatch(tour, -1) {
		script.WriteString(m[1])
	}
	srv := testenv.Start(t, testenv.ServerEnv(t))
	addr := strings.TrimPrefix(srv.URL, "http://")
	run := strings.ReplaceAll(script.String(), "localhost:8080", addr)

	ctx, cancel := context.WithTimeout(context.Background(), tourTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", run)
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		`"username":"ada"`,         // Register
		`"name":"general"`,         // ListRooms
		`"body":"hello from curl"`, // SendMessage over Connect
		"chat.v1.MessageService",   // grpcurl list
		"grpc.health.v1.Health",
		`"body": "hello from grpcurl"`,  // ListMessages over gRPC
		`"body": "hello from buf curl"`, // SendMessage over gRPC-Web
		`"role": "ROLE_MEMBER"`,         // ListMembers over gRPC
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tour output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("tour output:\n%s", out)
	}
}
