package deploy_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/testenv"
)

// Rolling restart limits: what chatd promises (hub.Drain spreads reconnects
// over up to 3 s) and the shutdown timeout the draining replica gets here.
const (
	maxReconnectDelay = 3 * time.Second
	drainTimeout      = 10 * time.Second
)

// TestRollingRestart stops one of two replicas the way Docker does (SIGTERM)
// while clients are connected to both: the stopped replica's clients are told
// to reconnect, come back through the proxy to the other replica and resume
// without a gap or a duplicate; the other replica's clients notice nothing.
// It runs on one Redis and on a three-master Redis Cluster.
func TestRollingRestart(t *testing.T) {
	testenv.EachRedisEnv(t, serverEnv, func(t *testing.T, env testenv.Env) {
		envA := testenv.Env{}
		for k, v := range env {
			envA[k] = v
		}
		envA["PARLEY_SHUTDOWN_TIMEOUT"] = drainTimeout.String()
		a := testenv.StartProcess(t, envA)
		b := testenv.StartProcess(t, env)
		px := startProxy(t, hostPort(a.URL), hostPort(b.URL))

		users := map[string]*testenv.Client{}
		for _, name := range []string{"alice", "bob", "carol"} {
			c := testenv.NewClient(b, testenv.Protocols[0])
			c.Signup(t, name)
			c.Join(t, testenv.General)
			users[name] = c
		}
		carol := users["carol"] // sends everything, through B
		onA := dialWS(t, a.URL, users["alice"].Token, "")
		onB := dialWS(t, b.URL, users["bob"].Token, "")

		carol.Send(t, testenv.General, "before", "before")
		seen := onA.messagesUntil("before")
		lastSeen := seen[len(seen)-1].seq
		onB.messagesUntil("before")

		// Stop A as `docker compose stop` does.
		stopAt := time.Now()
		if err := a.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		exited := make(chan time.Duration, 1)
		go func() {
			_ = a.Wait()
			exited <- time.Since(stopAt)
		}()

		var delay time.Duration
		var toldAt time.Time
		t.Run("DrainedClientToldToReconnect", func(t *testing.T) {
			for {
				f, err := onA.next(waitFor)
				if err != nil {
					t.Fatalf("no reconnect frame before the socket ended: %v", err)
				}
				if m := f.GetEvent().GetMessageCreated().GetMessage(); m != nil {
					t.Fatalf("unexpected message %q while draining", m.GetBody())
				}
				if r := f.GetReconnect(); r != nil {
					toldAt = time.Now()
					delay = time.Duration(r.GetDelayMs()) * time.Millisecond
					if delay < 0 || delay > maxReconnectDelay || r.GetReason() == "" {
						t.Fatalf("reconnect = %v, want a delay within %s and a reason", r, maxReconnectDelay)
					}
					break
				}
			}
			_, err := onA.next(waitFor)
			if err == nil {
				t.Fatal("the socket stayed open after the reconnect frame")
			}
			if _, ok := err.(*websocket.CloseError); !ok && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
				t.Logf("socket ended with: %v", err)
			}
		})
		if t.Failed() {
			t.FailNow()
		}

		// Messages sent while alice is away.
		var missed []string
		for i := 1; i <= 3; i++ {
			body := fmt.Sprintf("during-%d", i)
			carol.Send(t, testenv.General, body, body)
			missed = append(missed, body)
		}

		t.Run("OtherReplicaUntouched", func(t *testing.T) {
			got := onB.messagesUntil(missed[len(missed)-1])
			if bodies := bodiesOf(got); !slices.Equal(bodies, missed) {
				t.Fatalf("bob on B got %v, want %v", bodies, missed)
			}
		})

		t.Run("StoppedWithinShutdownTimeout", func(t *testing.T) {
			select {
			case took := <-exited:
				t.Logf("A exited %s after SIGTERM", took.Round(time.Millisecond))
			case <-time.After(drainTimeout + 2*time.Second):
				t.Fatalf("A did not exit within its shutdown timeout %s", drainTimeout)
			}
			if !a.Logs.Wait(`"msg":"stopped"`, 2*time.Second) {
				t.Fatalf("A did not shut down gracefully:\n%s", strings.Join(a.Logs.Lines(), "\n"))
			}
		})

		t.Run("ResumeOnOtherReplicaWithoutGapOrDuplicate", func(t *testing.T) {
			// The client waits as told, then reconnects through the proxy, which
			// only has B left.
			time.Sleep(time.Until(toldAt.Add(delay)))
			back := dialWS(t, px.HTTP, users["alice"].Token, "")
			back.send(fmt.Sprintf(`{"resume":{"rooms":[{"roomId":"%d","afterSeq":"%d"}]}}`, testenv.General, lastSeen))
			got := back.messagesUntil(missed[len(missed)-1])
			if bodies := bodiesOf(got); !slices.Equal(bodies, missed) {
				t.Fatalf("resume replayed %v, want %v", bodies, missed)
			}
			for i, m := range got {
				if want := lastSeen + int64(i) + 1; m.seq != want {
					t.Fatalf("replayed seqs %v, want %d.. without a gap", got, lastSeen+1)
				}
			}
			// Live delivery goes on after the replay, once.
			carol.Send(t, testenv.General, "after", "after")
			if got := back.messagesUntil("after"); len(got) != 1 || got[0].seq != lastSeen+int64(len(missed))+1 {
				t.Fatalf("after the resume got %v, want only \"after\"", got)
			}
			if got := onB.messagesUntil("after"); len(got) != 1 {
				t.Fatalf("bob got %v, want only \"after\"", got)
			}
			back.quiet(500 * time.Millisecond)
		})
	})
}

// drainClients is how many sockets TestDrainTellsEveryClient opens: enough
// that a process exiting before its writers ran would leave some untold.
const drainClients = 60

// TestDrainTellsEveryClient: a stopping chatd exits only after every live
// socket got its reconnect frame (http.Server.Shutdown does not wait for
// WebSockets).
func TestDrainTellsEveryClient(t *testing.T) {
	env := serverEnv(t)
	env["PARLEY_MAX_CONNS_PER_USER"] = fmt.Sprint(drainClients + 1)
	a := testenv.StartProcess(t, env)
	c := testenv.NewClient(a, testenv.Protocols[0])
	c.Signup(t, "alice")
	c.Join(t, testenv.General)
	var sockets []*wsClient
	for range drainClients {
		sockets = append(sockets, dialWS(t, a.URL, c.Token, ""))
	}
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var told atomic.Int64
	var wg sync.WaitGroup
	for _, ws := range sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				f, err := ws.next(waitFor)
				if err != nil {
					return
				}
				if f.GetReconnect() != nil {
					told.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := told.Load(); n != drainClients {
		t.Fatalf("%d of %d sockets were told to reconnect before chatd exited", n, drainClients)
	}
}

func bodiesOf(ms []received) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.body)
	}
	return out
}
