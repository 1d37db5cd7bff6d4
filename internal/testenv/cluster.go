package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// The test Redis Cluster: three masters and no replicas, the smallest
// cluster Redis accepts, so that keys and shard channels really live on
// different servers.
const (
	clusterMasters = 3
	// clusterStartTimeout bounds the start of one attempt: the servers,
	// redis-cli --cluster create, and every node saying cluster_state:ok
	// (about 6 s on a quiet box).
	clusterStartTimeout = 60 * time.Second
	// clusterAttempts is how often a start is tried on new ports: another
	// test binary may take a port between the check and the bind.
	clusterAttempts = 3
	// clusterBusOffset is where Redis puts a node's cluster bus: its port
	// plus 10000.
	clusterBusOffset = 10000
	clusterPoll      = 50 * time.Millisecond
)

// Cluster is a Redis Cluster of the test binary's own, started from
// Debian's redis-server on free loopback ports.
type Cluster struct {
	// Ports are the masters' client ports.
	Ports []int
	dir   string
	nodes []*clusterNode
}

// clusterNode is one running redis-server; exited closes when it ends.
type clusterNode struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

var (
	clusterOnce sync.Once
	cluster     *Cluster
	clusterErr  error
	// mainRuns is set by Main: only then is the cluster stopped at the end.
	mainRuns bool
)

// RedisCluster returns the test binary's Redis Cluster, started on first use
// and stopped by Main when the binary's tests are done: one start (about
// 6 s) serves every test of the package, each in a key prefix of its own
// (ClusterRedis, ClusterServerEnv). A package that uses it runs its tests
// through Main.
func RedisCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if !mainRuns {
		tb.Fatal("testenv.RedisCluster needs the package's TestMain to call testenv.Main, which stops the cluster")
	}
	clusterOnce.Do(func() { cluster, clusterErr = startCluster() })
	if clusterErr != nil {
		tb.Fatal(clusterErr)
	}
	return cluster
}

// Main runs a package's tests, then stops its Redis Cluster if a test
// started one. Call it from TestMain: os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	mainRuns = true
	code := m.Run()
	if cluster != nil {
		cluster.stop()
	}
	return code
}

// URL names every master in the form rueidis reads
// (redis://a?addr=b&addr=c), as an operator sets PARLEY_REDIS_URL; rueidis
// finds out it is a cluster.
func (c *Cluster) URL() string {
	u := fmt.Sprintf("redis://127.0.0.1:%d", c.Ports[0])
	for i, p := range c.Ports[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += fmt.Sprintf("%saddr=127.0.0.1:%d", sep, p)
	}
	return u
}

func startCluster() (*Cluster, error) {
	var errs []error
	for range clusterAttempts {
		c, err := tryCluster()
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("could not start a Redis Cluster (apt-get install redis-server redis-tools): %w", errors.Join(errs...))
}

// tryCluster starts the masters on ports whose bus port is free too, joins
// them and waits until every node serves all slots.
func tryCluster() (*Cluster, error) {
	dir, err := os.MkdirTemp("", "parley-redis-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	deadline := time.Now().Add(clusterStartTimeout)
	if err := c.start(deadline); err != nil {
		log := c.logs()
		c.stop()
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return c, nil
}

func (c *Cluster) start(deadline time.Time) error {
	for range clusterMasters {
		port, err := freeClusterPort()
		if err != nil {
			return err
		}
		c.Ports = append(c.Ports, port)
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", c.path(port, "nodes.conf"),
			"--dir", c.dir, "--save", "", "--appendonly", "no", "--logfile", c.path(port, "log"))
		if err := startOrphanProof(cmd); err != nil {
			return fmt.Errorf("start redis-server: %w", err)
		}
		n := &clusterNode{cmd: cmd, exited: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(n.exited) }()
		c.nodes = append(c.nodes, n)
	}
	for i, p := range c.Ports {
		if err := c.nodes[i].wait(p, deadline, func(rueidis.Client) error { return nil }); err != nil {
			return fmt.Errorf("redis-server on port %d does not answer: %w", p, err)
		}
	}
	create := []string{"--cluster", "create"}
	for _, p := range c.Ports {
		create = append(create, fmt.Sprintf("127.0.0.1:%d", p))
	}
	create = append(create, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", create...).CombinedOutput(); err != nil {
		return fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for i, p := range c.Ports {
		if err := c.nodes[i].wait(p, deadline, clusterOK); err != nil {
			return fmt.Errorf("node %d: %w", p, err)
		}
	}
	return nil
}

func (c *Cluster) path(port int, name string) string {
	return filepath.Join(c.dir, strconv.Itoa(port)+"-"+name)
}

// logs is what the servers logged, for a failure message.
func (c *Cluster) logs() string {
	var b strings.Builder
	for _, p := range c.Ports {
		log, _ := os.ReadFile(c.path(p, "log"))
		fmt.Fprintf(&b, "--- redis-server %d:\n%s", p, log)
	}
	return b.String()
}

func (c *Cluster) stop() {
	for _, n := range c.nodes {
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
	_ = os.RemoveAll(c.dir)
}

// freeClusterPort is a loopback port that is free, and whose cluster bus
// port is free too.
func freeClusterPort() (int, error) {
	return pickPort(func(port int) bool {
		bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+clusterBusOffset))
		if err == nil {
			bus.Close()
		}
		return err == nil
	})
}

// wait polls the node until check passes on a plain (non-cluster)
// connection to it, and gives up at once when the server has exited (its
// port was taken, say).
func (n *clusterNode) wait(port int, deadline time.Time, check func(rueidis.Client) error) error {
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return errors.New("redis-server exited")
		default:
		}
		var node rueidis.Client
		node, err = rueidis.NewClient(rueidis.ClientOption{
			InitAddress: []string{fmt.Sprintf("127.0.0.1:%d", port)}, ForceSingleClient: true, DisableCache: true,
		})
		if err == nil {
			err = check(node)
			node.Close()
			if err == nil {
				return nil
			}
		}
		time.Sleep(clusterPoll)
	}
	return err
}

// clusterOK passes when the node serves every slot.
func clusterOK(node rueidis.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := node.Do(ctx, node.B().ClusterInfo().Build()).ToString()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return errors.New("cluster_state is not ok yet")
	}
	return nil
}

// spawn starts processes from one OS thread that lives as long as the test
// binary. Linux sends a child's Pdeathsig when the thread that started it
// ends, not the process, so only such a thread makes the signal mean "the
// test binary died" (a timeout's panic skips Main's cleanup).
var spawn = sync.OnceValue(func() chan<- func() {
	jobs := make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the binary
		for job := range jobs {
			job()
		}
	}()
	return jobs
})

// startOrphanProof starts cmd so that it is killed when the test binary
// dies, however it dies.
func startOrphanProof(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	done := make(chan error, 1)
	spawn() <- func() { done <- cmd.Start() }
	return <-done
}
