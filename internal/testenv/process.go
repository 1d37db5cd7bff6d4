package testenv

import (
	"os/exec"
	"syscall"
	"testing"
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
// kernel even accepts new ones, but nothing is answered.
func (p *process) Pause() { p.signal(syscall.SIGSTOP) }

// Resume lets a paused server go on (SIGCONT).
func (p *process) Resume() { p.signal(syscall.SIGCONT) }

func (p *process) signal(sig syscall.Signal) {
	p.tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.tb.Fatalf("signal %s: %v", p.name, err)
	}
}
