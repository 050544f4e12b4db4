package etcdstore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/etcdstore"
)

// TestMain runs the package's tests, then stops the cluster the examples
// and benchmarks share, then checks that no goroutine is left — etcd's
// included: every cluster a test started has been closed by then.
// RunSpecs leaves Ginkgo's interrupt handler running for the life of the
// process; that one is Ginkgo's, not ours.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := closeShared(); err != nil {
		fmt.Fprintf(os.Stderr, "closing the shared clusters: %v\n", err)
		code = 1
	}
	if code == 0 {
		if err := settled(goleak.IgnoreTopFunction(
			"github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2")); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines left after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// settled waits until goleak finds nothing, or gives up after settleIn.
// A closed client's or member's connections wind down asynchronously: the
// members' peer connections end on their read timeout (5s) after the
// member has stopped, so a leak check right after Close would flag them.
func settled(opts ...goleak.Option) error {
	deadline := time.Now().Add(settleIn)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
	}
}

const settleIn = 15 * time.Second

func TestEtcdstore(t *testing.T) {
	RegisterFailHandler(Fail)
	// The race detector, a busy machine and Raft round trips make
	// everything slower; a generous timeout keeps Eventually from failing
	// on a slow moment, while a real hang still fails.
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultEventuallyPollingInterval(5 * time.Millisecond)
	// A spec that hangs fails the suite within this bound, named, instead
	// of waiting for go test's global timeout (10 minutes, which it must
	// stay under); it is several times the suite's time under -race.
	suite, reporter := GinkgoConfiguration()
	suite.Timeout = min(suite.Timeout, 8*time.Minute)
	RunSpecs(t, "etcdstore", suite, reporter)
}

// single and trio are the suite's embedded clusters, of one and three
// members, started once and shared by the specs; each spec has prefixes of
// its own. No spec stops their members: specs that do start clusters of
// their own.
var single, trio *cluster

var _ = BeforeSuite(func() {
	var err error
	single, err = newCluster(1)
	Expect(err).NotTo(HaveOccurred())
	trio, err = newCluster(3)
	Expect(err).NotTo(HaveOccurred())
	conformanceClient, err = single.client()
	Expect(err).NotTo(HaveOccurred())
	// A first request, so that the client's connection is up, with its
	// goroutines, before any spec's leak check takes its baseline.
	_, err = conformanceClient.Get(bg, "etcdstore-test/warm-up")
	Expect(err).NotTo(HaveOccurred())
	httpFront.Start()
})

var _ = AfterSuite(func() {
	httpFront.Close()
	if conformanceClient != nil {
		Expect(conformanceClient.Close()).To(Succeed())
	}
	for _, c := range []*cluster{single, trio} {
		if c != nil {
			Expect(c.close()).To(Succeed())
		}
	}
})

// peerTraffic ignores the goroutines of the HTTP connections the members
// of a running cluster keep opening to each other (Raft messages, version
// checks): a three-member cluster opens new ones while a spec runs, and
// each lives until its idle or read timeout. The store itself never
// speaks net/http — the client library talks gRPC on its own transport —
// so these are the members'; the server side of each is recognisable by
// etcd's own timeout wrapper. The specs that serve a store over HTTP
// (http_test.go) close their httptest servers at teardown, which waits for
// every handler and closes the client's idle connections, so a handler
// that leaked would still be found.
var peerTraffic = []goleak.Option{
	goleak.IgnoreAnyFunction("go.etcd.io/etcd/client/pkg/v3/transport.timeoutConn.Read"),
	goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	goleak.IgnoreAnyFunction("net/http.(*connReader).abortPendingRead"),
}

// leaks ignores the goroutines there were when the running spec began;
// toStop holds what the spec started, to stop before the leak check, last
// registered first.
var (
	leaks  goleak.Option
	toStop []func()
)

var _ = BeforeEach(func() {
	leaks = goleak.IgnoreCurrent()
	toStop = nil
})

var _ = AfterEach(func() {
	for i := len(toStop) - 1; i >= 0; i-- {
		toStop[i]()
	}
	toStop = nil
	Expect(settled(append(peerTraffic, leaks)...)).To(Succeed())
})

func atTeardown(f func()) { toStop = append(toStop, f) }

var bg = context.Background()

// must returns v, failing the spec if err is not nil.
func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}

func errOf[T any](_ T, err error) error { return err }

// hang bounds the suite's waits on goroutines: a minute, many times what
// they take under -race, since a call may wait out a failover of the
// cluster or its RequestTimeout.
const hang = time.Minute

// waitFor fails the spec, naming what it waited for, unless wg is done
// within hang, so a caller that hangs shows up as a failure, not as a
// hung suite.
func waitFor(wg *sync.WaitGroup, what string) {
	GinkgoHelper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	Eventually(done).WithTimeout(hang).Should(BeClosed(), what)
}

// clientOf returns a new client of every member of c, closed at teardown.
func clientOf(c *cluster) *clientv3.Client {
	GinkgoHelper()
	cli := must(c.client())
	atTeardown(func() { Expect(cli.Close()).To(Succeed()) })
	return cli
}

// ownCluster starts a cluster of n members for the running spec alone; it
// is closed at teardown, and that close must succeed.
func ownCluster(n int) *cluster {
	GinkgoHelper()
	c := must(newCluster(n))
	atTeardown(func() { Expect(c.close()).To(Succeed()) })
	return c
}

var prefixes atomic.Int64

// newPrefix returns a prefix no other store of the run has.
func newPrefix() string {
	return fmt.Sprintf("etcdstore-test/%d/", prefixes.Add(1))
}

// newStore returns a store of values V over cli under a new prefix (unless
// cfg has one), not started; it is shut down at teardown.
func newStore[V any](cli *clientv3.Client, cfg etcdstore.Config, opts ...etcdstore.Option[V]) *etcdstore.Store[V] {
	GinkgoHelper()
	if cfg.Prefix == "" {
		cfg.Prefix = newPrefix()
	}
	s := must(etcdstore.New(cli, cfg, opts...))
	atTeardown(func() { Expect(s.Shutdown()).To(Succeed()) })
	return s
}

// running is newStore, started.
func running[V any](cli *clientv3.Client, cfg etcdstore.Config, opts ...etcdstore.Option[V]) *etcdstore.Store[V] {
	GinkgoHelper()
	s := newStore(cli, cfg, opts...)
	Expect(s.Start(bg)).To(Succeed())
	return s
}

type intStore = etcdstore.Store[int]
