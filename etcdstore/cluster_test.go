package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/lastmodstore/lastmodstore/internal/ports"
)

// cluster is an embedded etcd cluster on 127.0.0.1, its members in one
// process with this test, their data in a temporary directory: nothing to
// install. Members can be stopped and started again on the same ports and
// data, to test a store through failures.
type cluster struct {
	dir     string
	token   string
	members []*member
}

type member struct {
	name      string
	dir       string
	peerURL   url.URL
	clientURL url.URL
	proxy     *proxy      // what the tests' clients connect to
	etcd      *embed.Etcd // nil while stopped
}

// The cluster's timing: a tick of 50ms and elections after 500ms keep
// failovers quick without spurious elections on a busy machine, and make
// the shortest lease one second.
const (
	tickMs     = 50
	electionMs = 500
	readyIn    = 30 * time.Second
)

// newCluster starts a cluster of n members under a new temporary
// directory and waits until it has a leader.
func newCluster(n int) (*cluster, error) {
	dir, err := os.MkdirTemp("", "etcdstore-test-*")
	if err != nil {
		return nil, err
	}
	free, err := ports.Free(2 * n)
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, token: fmt.Sprintf("etcdstore-%d", time.Now().UnixNano())}
	for i := range n {
		c.members = append(c.members, &member{
			name:      fmt.Sprintf("m%d", i),
			dir:       fmt.Sprintf("%s/m%d", dir, i),
			peerURL:   url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", free[2*i])},
			clientURL: url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", free[2*i+1])},
		})
	}
	for _, m := range c.members {
		if m.proxy, err = newProxy(m.clientURL.Host); err != nil {
			return nil, c.abandon(err)
		}
	}
	for i := range c.members {
		if err := c.launch(i); err != nil {
			return nil, c.abandon(err)
		}
	}
	for i := range c.members {
		if err := c.waitReady(i); err != nil {
			return nil, c.abandon(err)
		}
	}
	return c, nil
}

// abandon closes a cluster that failed to start, and returns err. etcd
// cannot always close a member whose peers never came; rather than hang
// the suite, abandon gives up on it after closeIn and says so, and the
// spec's leak check then names what was left.
func (c *cluster) abandon(err error) error {
	done := make(chan struct{})
	var closeErr error
	go func() {
		defer close(done)
		closeErr = c.close()
	}()
	select {
	case <-done:
		return errors.Join(err, closeErr)
	case <-time.After(closeIn):
		return fmt.Errorf("%w; and the members started could not be closed within %v", err, closeIn)
	}
}

// closeIn bounds abandon's wait, and a proxy's close.
const closeIn = 30 * time.Second

func (c *cluster) initial() string {
	var parts []string
	for _, m := range c.members {
		parts = append(parts, m.name+"="+m.peerURL.String())
	}
	return strings.Join(parts, ",")
}

// launch starts member i, new or again on its data; it does not wait for
// it to be ready.
func (c *cluster) launch(i int) error {
	m := c.members[i]
	cfg := embed.NewConfig()
	cfg.Name = m.name
	cfg.Dir = m.dir
	cfg.ListenPeerUrls = []url.URL{m.peerURL}
	cfg.AdvertisePeerUrls = []url.URL{m.peerURL}
	cfg.ListenClientUrls = []url.URL{m.clientURL}
	cfg.AdvertiseClientUrls = []url.URL{m.clientURL}
	cfg.InitialCluster = c.initial()
	cfg.InitialClusterToken = c.token
	cfg.ClusterState = embed.ClusterStateFlagNew
	cfg.TickMs = tickMs
	cfg.ElectionMs = electionMs
	cfg.UnsafeNoFsync = true // the data is thrown away; fsync would only slow the tests
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start %s: %w", m.name, err)
	}
	m.etcd = e
	m.proxy.heal()
	return nil
}

// waitReady waits until member i serves clients. Ready is not enough: the
// member starts its client servers in goroutines of its own after it, and
// a spec's leak check must not take them for its own.
func (c *cluster) waitReady(i int) error {
	m := c.members[i]
	select {
	case <-m.etcd.Server.ReadyNotify():
	case err := <-m.etcd.Err():
		return fmt.Errorf("%s: %w", m.name, err)
	case <-time.After(readyIn):
		return fmt.Errorf("%s not ready within %v", m.name, readyIn)
	}
	cli, err := c.clientOf(i)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyIn)
	defer cancel()
	if _, err := cli.Get(ctx, "ready", clientv3.WithSerializable()); err != nil {
		return fmt.Errorf("%s does not serve: %w", m.name, err)
	}
	return nil
}

// stop stops member i as a crash would for its clients: their
// connections drop at once. Cutting them first also spares the member's
// graceful stop its wait (up to 6s) for the streams they held open.
func (c *cluster) stop(i int) {
	if m := c.members[i]; m.etcd != nil {
		m.proxy.partition()
		m.etcd.Close()
		m.etcd = nil
	}
}

// restart starts the stopped member i again, on its ports and data, and
// waits until it is ready (which needs a quorum).
func (c *cluster) restart(i int) error {
	if c.members[i].etcd != nil {
		return errors.New("member is running")
	}
	if err := c.launch(i); err != nil {
		return err
	}
	return c.waitReady(i)
}

// stopAll stops every member: their clients lose them all at once, then
// the members stop one by one (stopped together, each would wait for
// another to take its leadership).
func (c *cluster) stopAll() {
	for _, m := range c.members {
		m.proxy.partition()
	}
	for i := range c.members {
		c.stop(i)
	}
}

func (c *cluster) startAll() error {
	for i, m := range c.members {
		if m.etcd == nil {
			if err := c.launch(i); err != nil {
				return err
			}
		}
	}
	for i := range c.members {
		if err := c.waitReady(i); err != nil {
			return err
		}
	}
	return nil
}

// close stops the cluster and removes its data; the error names the
// proxies that did not stop within closeIn.
func (c *cluster) close() error {
	c.stopAll()
	var errs []error
	for _, m := range c.members {
		if m.proxy != nil {
			errs = append(errs, m.proxy.close())
		}
	}
	_ = os.RemoveAll(c.dir)
	return errors.Join(errs...)
}

// endpoints are the members' proxies.
func (c *cluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, "http://"+m.proxy.addr())
	}
	return eps
}

// client returns a client of every member; the caller closes it.
func (c *cluster) client() (*clientv3.Client, error) {
	return newClient(c.endpoints()...)
}

// clientOf returns a client of member i alone, through its proxy.
func (c *cluster) clientOf(i int) (*clientv3.Client, error) {
	return newClient("http://" + c.members[i].proxy.addr())
}

// newClient returns a client of endpoints. It reconnects after at most
// half a second: gRPC's default backoff grows to two minutes, longer than
// a test should wait for a member it has started again.
func newClient(endpoints ...string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 500 * time.Millisecond},
			MinConnectTimeout: time.Second,
		})},
	})
}
