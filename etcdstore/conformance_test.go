package etcdstore_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
	"github.com/lastmodstore/lastmodstore/storetest"
)

// conformanceClient is the client of the single-member cluster the
// conformance specs share, opened by BeforeSuite, before any spec's leak
// check takes its baseline, and closed by AfterSuite. Each store the specs
// open has a prefix of its own.
var conformanceClient *clientv3.Client

// etcdImplementation describes etcdstore to package storetest. The specs
// of what the store does not have are skipped, each with why; every other
// spec runs, with real time where the in-process stores' own suites also
// use virtual time: etcdstore hides an item from its ExpiresAt on, so a
// TTL of milliseconds works, though the cluster deletes the item only
// when its lease of whole seconds runs out.
var etcdImplementation = storetest.Implementation{
	New: func(cfg store.Config, opts ...store.Option[string, int]) (storetest.Store[int], error) {
		// The in-process stores' own checks first, so that a Config they
		// refuse is refused here too, naming the same field.
		if _, err := cfg.WithDefaults(); err != nil {
			return nil, err
		}
		if len(opts) > 0 {
			return nil, fmt.Errorf("%w: etcdstore takes etcdstore.Options, not store.Options", store.ErrInvalidConfig)
		}
		// WorkerCount, CleanupInterval, MailboxSize and LockFreeReads tune
		// the in-process stores' goroutines: a store over etcd has none.
		s, err := etcdstore.New[int](conformanceClient, etcdstore.Config{
			Prefix:   newPrefix(),
			TTL:      cfg.TTL,
			MaxSize:  cfg.MaxSize,
			Eviction: cfg.Eviction,
		})
		if s == nil {
			return nil, err
		}
		return s, err
	},
	Nil: (*etcdstore.Store[int])(nil),
	Lacks: map[storetest.Feature]string{
		storetest.Capacity: "New refuses MaxSize and Eviction with ErrInvalidConfig: a limit would need " +
			"one counter that every write's transaction updates, and leases expire items without one",
		storetest.Options: "etcdstore takes options of its own (etcdstore.Option), not store's: " +
			"it has no eviction callbacks, restart limit or stop timeout",
		storetest.Sweeps: "the cluster expires items by their leases: there are no cleanup actors, " +
			"sweeps or mailbox, and Stats.Expirations stays 0",
		storetest.ExactRevisions: "Revision is etcd's mod_revision, shared with every key of the cluster: " +
			"it does not number this store's changes alone",
		storetest.ItemsApart: "a SetMany is one transaction: its items share one Revision and one LastModified",
		storetest.FullStats: "Stats counts this client's own calls; Evictions, Restarts and Expirations stay 0, " +
			"and Items counts an expired item until its lease runs out",
		storetest.UpdateReentry: "Update's function runs in the client with no lock held: " +
			"a call into the store from inside it is an ordinary call, which works",
		storetest.UpdateGoexit: "Update's function runs on the caller's goroutine, which its runtime.Goexit ends",
	},
	Slow:             true,
	IgnoreGoroutines: peerTraffic,
}

var _ = Describe("conformance to the store's method set (storetest), on one member", func() {
	storetest.Specs(etcdImplementation)
})
