package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/internal/harness"
)

// etcdDesigns returns the designs over the clusters of l, in the order of
// the tables.
func etcdDesigns(l *lab) []harness.Design {
	v := etcdVersion()
	return []harness.Design{
		{Name: "etcd-1", About: "package etcdstore over an embedded single-member etcd" + v + " cluster (loopback, no fsync)",
			Colour: "#8e5ea2", Offers: harness.Batches | harness.Revisions, Open: l.single.open},
		{Name: "etcd-3", About: "package etcdstore over an embedded three-member etcd" + v + " cluster (loopback, no fsync)",
			Colour: "#c0392b", Offers: harness.Batches | harness.Revisions, Open: l.trio.open},
	}
}

// etcdVersion returns " " and the version of the etcd server linked in,
// or "" when the binary does not say.
func etcdVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "go.etcd.io/etcd/server/v3" {
				return " " + m.Version
			}
		}
	}
	return ""
}

// prefixes numbers the stores of a run: each workload opens a store of
// its own, on a prefix no other has.
var prefixes atomic.Int64

// open returns a started store over c, on a client of its own of every
// member, under a new prefix: an empty cache for the harness.
func (c *cluster) open() (harness.Cache, error) {
	if err := c.start(); err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	s, err := etcdstore.New[int](cli, etcdstore.Config{Prefix: fmt.Sprintf("etcdcompare/%d/", prefixes.Add(1))})
	if err != nil {
		return nil, errors.Join(err, cli.Close())
	}
	if err := s.Start(context.Background()); err != nil {
		return nil, errors.Join(err, cli.Close())
	}
	return etcdCache{s: s, cli: cli}, nil
}

// etcdCache is the harness's view of a store over etcd. The store's
// errors pass through: a key missing is store.ErrNotFound, a failed
// conditional write a *store.ConflictError.
type etcdCache struct {
	s   *etcdstore.Store[int]
	cli *clientv3.Client
}

func (c etcdCache) Get(key string) (int, error) {
	it, err := c.s.Get(key)
	if err != nil {
		return 0, err
	}
	return it.Value, nil
}

func (c etcdCache) Set(key string, value int) error { return c.s.Set(key, value) }

// Close stops the store, then closes its client, which the store leaves
// open.
func (c etcdCache) Close() error { return errors.Join(c.s.Shutdown(), c.cli.Close()) }

func (c etcdCache) GetMany(keys []string) error {
	_, err := c.s.GetMany(keys)
	return err
}

// maxTxnOps is how many keys one SetMany, one transaction, may write: the
// embedded members' --max-txn-ops, etcd's default.
const maxTxnOps = int(embed.DefaultMaxTxnOps)

// SetMany writes items in one transaction, as the store does, when they
// fit in one: the workloads' batches, of 64 keys at most, always do. A
// larger map — the harness's prefill writes 10^4 keys a call — goes in
// transactions of maxTxnOps keys, one after another: atomic per
// transaction only, which is enough to fill a store before measuring, and
// which etcdstore's SetMany, refusing it whole, does not offer.
func (c etcdCache) SetMany(items map[string]int) error {
	if len(items) <= maxTxnOps {
		return c.s.SetMany(items)
	}
	chunk := make(map[string]int, maxTxnOps)
	for k, v := range items {
		if chunk[k] = v; len(chunk) == maxTxnOps {
			if err := c.s.SetMany(chunk); err != nil {
				return err
			}
			clear(chunk)
		}
	}
	return c.s.SetMany(chunk)
}

func (c etcdCache) GetRevision(key string) (int, uint64, error) {
	it, err := c.s.Get(key)
	if err != nil {
		return 0, 0, err
	}
	return it.Value, it.Revision, nil
}

func (c etcdCache) CompareAndSet(key string, value int, revision uint64) error {
	_, err := c.s.CompareAndSet(key, value, revision)
	return err
}
