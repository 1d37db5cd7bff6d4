package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// elided, in a documented output, stands for any id, time or token: the
// parts that differ on every run.
const elided = "…"

var shellBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// tourStep is one paragraph of a tour block: commands, then what they print,
// written as the comment lines that end the paragraph.
type tourStep struct {
	commands string
	output   []string // nil: not documented
}

// tourSteps splits the shell blocks of the tour into steps.
func tourSteps(tb testing.TB, tour string) []tourStep {
	tb.Helper()
	var steps []tourStep
	for _, block := range shellBlock.FindAllStringSubmatch(tour, -1) {
		for _, para := range strings.Split(strings.TrimSpace(block[1]), "\n\n") {
			lines := strings.Split(para, "\n")
			n := len(lines)
			for n > 0 && strings.HasPrefix(lines[n-1], "#") {
				n--
			}
			if n == 0 {
				tb.Fatalf("a tour paragraph is only comments, with no command:\n%s", para)
			}
			st := tourStep{commands: strings.Join(lines[:n], "\n")}
			for _, l := range lines[n:] {
				st.output = append(st.output, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
			}
			steps = append(steps, st)
		}
	}
	return steps
}

// tourScript runs the steps in one shell, exactly as written, keeping what
// each documented step prints in dir/<index> (and showing it too).
func tourScript(steps []tourStep, dir string) string {
	var b strings.Builder
	for i, st := range steps {
		if st.output == nil {
			b.WriteString(st.commands + "\n")
			continue
		}
		out := filepath.Join(dir, fmt.Sprint(i))
		fmt.Fprintf(&b, "{\n%s\n} >'%s'\ncat '%[2]s'\n", st.commands, out)
	}
	return b.String()
}

// sameOutput reports whether got is what the README documents: the same
// JSON (keys, arrays and values, whatever the layout) when the documented
// output is JSON, else the same lines; elided matches any one value, or any
// run of characters in a line.
func sameOutput(doc []string, got string) bool {
	want := strings.Join(doc, "\n")
	if json.Valid([]byte(want)) {
		w, errW := decodeJSON(want)
		g, errG := decodeJSON(got)
		return errW == nil && errG == nil && sameJSON(w, g)
	}
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(lines) != len(doc) {
		return false
	}
	for i, d := range doc {
		pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(d), elided, ".*") + "$"
		if !regexp.MustCompile(pattern).MatchString(strings.TrimRight(lines[i], " ")) {
			return false
		}
	}
	return true
}

func decodeJSON(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

// sameJSON compares decoded JSON; an elided string stands for any string
// or number, never for an object, an array or a missing key.
func sameJSON(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			if gv, ok := g[k]; !ok || !sameJSON(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameJSON(w[i], g[i]) {
				return false
			}
		}
		return true
	case string:
		switch got.(type) {
		case string, json.Number:
			return w == elided || got == w
		}
		return false
	}
	return want == got
}

// TestReadmeTour runs the README's tour, exactly as written, against a live
// server, and checks that every command prints what the README shows under
// it, and what a person following it would look for.
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
	steps := tourSteps(t, tour)
	srv := testenv.Start(t, testenv.ServerEnv(t))
	addr := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	run := strings.ReplaceAll(tourScript(steps, dir), "localhost:8080", addr)

	ctx, cancel := context.WithTimeout(context.Background(), tourTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", run)
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	for i, st := range steps {
		if st.output == nil {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if !sameOutput(st.output, string(got)) {
			t.Errorf("README.md says\n%s\nprints\n%s\nbut it printed\n%s", st.commands, strings.Join(st.output, "\n"), bytes.TrimSpace(got))
		}
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
