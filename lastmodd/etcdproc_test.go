package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/internal/ports"
)

// etcdCluster is a cluster of etcd members on 127.0.0.1, each a process
// of etcdBin, its data in a temporary directory. A member can be killed
// with SIGKILL and started again on its ports and data. The processes
// leave no goroutine in the test binary: their output goes to files, and
// a member is waited for only when it is killed.
type etcdCluster struct {
	dir     string
	members []*etcdMember
	extra   []string // etcdmember flags every member gets
}

type etcdMember struct {
	name, dir    string
	peer, client string // host:port
	scheme       string // of the client URL
	cmd          *exec.Cmd
}

// startEtcd starts a cluster of n members, with extra flags for each
// (TLS, authentication), and waits until every member serves. A spec
// that fails before it closes the cluster does not leave it running.
func startEtcd(n int, extra ...string) *etcdCluster {
	GinkgoHelper()
	c := &etcdCluster{dir: GinkgoT().TempDir(), extra: extra}
	free, err := ports.Free(2 * n)
	Expect(err).NotTo(HaveOccurred(), "free ports for %d etcd members", n)
	scheme := "http"
	for _, f := range extra {
		if f == "-tls-cert" {
			scheme = "https"
		}
	}
	var initial []string
	for i := range n {
		m := &etcdMember{
			name:   "m" + strconv.Itoa(i),
			peer:   "127.0.0.1:" + strconv.Itoa(free[2*i]),
			client: "127.0.0.1:" + strconv.Itoa(free[2*i+1]),
			scheme: scheme,
		}
		m.dir = filepath.Join(c.dir, m.name)
		c.members = append(c.members, m)
		initial = append(initial, m.name+"=http://"+m.peer)
	}
	DeferCleanup(c.close)
	ready := make([]chan error, n)
	for i := range c.members {
		ready[i] = c.launch(i, strings.Join(initial, ","))
	}
	for i := range c.members {
		c.waitReady(i, ready[i])
	}
	return c
}

// etcdReadyIn bounds the wait for a member to serve: a first election
// takes an election timeout or two (500 ms here).
const etcdReadyIn = 30 * time.Second

// launch starts member i; the channel is closed, or given an error,
// when it is ready.
func (c *etcdCluster) launch(i int, initial string) chan error {
	GinkgoHelper()
	m := c.members[i]
	args := append([]string{
		"-name", m.name, "-dir", m.dir,
		"-peer", "http://" + m.peer, "-client", m.scheme + "://" + m.client,
		"-initial-cluster", initial, "-token", c.dir,
	}, c.extra...)
	m.cmd = exec.Command(etcdBin, args...)
	logFile, err := os.OpenFile(filepath.Join(c.dir, m.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	Expect(err).NotTo(HaveOccurred())
	defer logFile.Close()
	m.cmd.Stderr = logFile // a file: exec starts no goroutine to copy it
	out, err := m.cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(m.cmd.Start()).To(Succeed())
	ready := make(chan error, 1)
	go func() {
		// The member prints one line, once ready, and nothing after: the
		// read ends there, or when the process dies.
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "etcdmember: ready" {
			err = fmt.Errorf("unexpected output %q", line)
		}
		ready <- err
	}()
	return ready
}

func (c *etcdCluster) waitReady(i int, ready chan error) {
	GinkgoHelper()
	m := c.members[i]
	select {
	case err := <-ready:
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(c.dir, m.name+".log"))
			Fail(fmt.Sprintf("etcd member %s did not start: %v; its log: %s", m.name, err, log))
		}
	case <-time.After(etcdReadyIn):
		_ = m.cmd.Process.Kill()
		<-ready
		Fail(fmt.Sprintf("etcd member %s not ready within %v", m.name, etcdReadyIn))
	}
}

// kill kills member i with SIGKILL and waits until it has exited.
func (c *etcdCluster) kill(i int) {
	GinkgoHelper()
	m := c.members[i]
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	err := m.cmd.Wait()
	var exit *exec.ExitError
	Expect(err == nil || errors.As(err, &exit)).To(BeTrue(), "%s: %v", m.name, err)
	m.cmd = nil
}

// restart starts the killed member i again on its ports and data, and
// waits until it serves (which needs a quorum).
func (c *etcdCluster) restart(i int) {
	GinkgoHelper()
	var initial []string
	for _, m := range c.members {
		initial = append(initial, m.name+"=http://"+m.peer)
	}
	c.waitReady(i, c.launch(i, strings.Join(initial, ",")))
}

// close kills every member still running; called again, it does
// nothing.
func (c *etcdCluster) close() {
	for i := range c.members {
		c.kill(i)
	}
}

// endpoints is the -etcd flag's value for the cluster.
func (c *etcdCluster) endpoints() string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.scheme+"://"+m.client)
	}
	return strings.Join(eps, ",")
}
