package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// process is a server of a test's own, run as a child process, which a
// fault test may pause and resume.
type process struct {
	tb   testing.TB
	name string // for messages
	cmd  *exec.Cmd
}

// Pause stops the server's process (SIGSTOP), as a hung server, a stalled
// disk or a network partition looks: connections stay open, and the
// kernel even accepts new ones, but nothing is answered. It returns once
// every thread has stopped: the signal is delivered as threads next enter
// the kernel, and a thread still running could answer a test's first call.
func (p *process) Pause() {
	p.tb.Helper()
	p.signal(syscall.SIGSTOP)
	deadline := time.Now().Add(5 * time.Second)
	for !p.stopped() {
		if time.Now().After(deadline) {
			p.tb.Fatalf("%s did not stop within 5 s of SIGSTOP", p.name)
		}
		time.Sleep(time.Millisecond)
	}
}

// stopped reports whether every thread of the process is stopped (state T
// in /proc).
func (p *process) stopped() bool {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", p.cmd.Process.Pid))
	if err != nil || len(stats) == 0 {
		return false
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses
		// and may itself hold spaces or parentheses.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) == 0 || (fields[0] != "T" && fields[0] != "t") {
			return false
		}
	}
	return true
}

// Resume lets a paused server go on (SIGCONT).
func (p *process) Resume() { p.signal(syscall.SIGCONT) }

func (p *process) signal(sig syscall.Signal) {
	p.tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.tb.Fatalf("signal %s: %v", p.name, err)
	}
}
