package main

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/lastmodstore/lastmodstore/internal/ports"
)

// readyIn bounds the wait for a member to join its cluster: a first
// election takes one or two election timeouts (1s each by default).
const readyIn = 30 * time.Second

// cluster is an embedded etcd cluster of size members on 127.0.0.1, in
// this process, its data under dir. It starts on the first Open of a
// design over it, so that a run that leaves the design out starts
// nothing, and stops on close. etcd's own settings are its defaults, but
// fsync: the data is thrown away.
type cluster struct {
	size int
	dir  string // the members' data; unique, so it is the cluster's token too

	once      sync.Once
	err       error
	members   []*embed.Etcd
	endpoints []string
}

// start starts the cluster on its first call and waits until every member
// serves; every call returns the first call's error.
func (c *cluster) start() error {
	c.once.Do(func() { c.err = c.launch() })
	return c.err
}

func (c *cluster) launch() error {
	free, err := ports.Free(2 * c.size)
	if err != nil {
		return err
	}
	at := func(port int) url.URL { return url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)} }
	var initial []string
	for i := range c.size {
		peer := at(free[2*i])
		initial = append(initial, fmt.Sprintf("m%d=%s", i, peer.String()))
	}
	for i := range c.size {
		peer, client := at(free[2*i]), at(free[2*i+1])
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(c.dir, cfg.Name)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = c.dir // no member of another cluster can join
		cfg.UnsafeNoFsync = true
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		e, err := embed.StartEtcd(cfg)
		if err != nil {
			return fmt.Errorf("start etcd member %s: %w", cfg.Name, err)
		}
		c.members = append(c.members, e)
		c.endpoints = append(c.endpoints, client.String())
	}
	for _, e := range c.members {
		select {
		case <-e.Server.ReadyNotify():
		case err := <-e.Err():
			return fmt.Errorf("etcd member %s: %w", e.Config().Name, err)
		case <-time.After(readyIn):
			return fmt.Errorf("etcd member %s not ready within %v", e.Config().Name, readyIn)
		}
	}
	return nil
}

// close stops the members one by one, each waiting for its goroutines;
// called again, it does nothing. The caches' clients must be closed
// first: a member's graceful stop waits for the streams its clients hold
// open. (Stopped together, the members would wait for each other to take
// the leadership, for seconds; one by one, each waits up to a second for
// the connections its peers keep to it.)
func (c *cluster) close() {
	for _, e := range c.members {
		e.Close()
	}
	c.members = nil
}
