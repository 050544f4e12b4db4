package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/store"
)

// The store satisfies the interface both in-process designs share, so the
// code, tests and benchmarks written against it run over etcd too.
var _ kv.Store[string, int] = (*etcdstore.Store[int])(nil)

// operation is one of the store's operations reduced to its error.
type operation struct {
	name string
	call func(s *intStore) error
}

var operations = []operation{
	{"Set", func(s *intStore) error { return s.Set("k", 1) }},
	{"SetWithTTL", func(s *intStore) error { return s.SetWithTTL("k", 1, time.Minute) }},
	{"Get", func(s *intStore) error { return errOf(s.Get("k")) }},
	{"Delete", func(s *intStore) error { return s.Delete("k") }},
	{"Size", func(s *intStore) error { return errOf(s.Size()) }},
	{"List", func(s *intStore) error { return errOf(s.List()) }},
	{"Clear", func(s *intStore) error { return s.Clear() }},
	{"GetMany", func(s *intStore) error { return errOf(s.GetMany([]string{"k"})) }},
	{"GetMany of no keys", func(s *intStore) error { return errOf(s.GetMany(nil)) }},
	{"SetMany", func(s *intStore) error { return s.SetMany(map[string]int{"k": 1}) }},
	{"SetMany of no items", func(s *intStore) error { return s.SetMany(nil) }},
	{"CompareAndSet", func(s *intStore) error { return errOf(s.CompareAndSet("k", 1, 0)) }},
	{"SetIfUnmodifiedSince", func(s *intStore) error { return errOf(s.SetIfUnmodifiedSince("k", 1, time.Now())) }},
	{"CompareAndDelete", func(s *intStore) error { return s.CompareAndDelete("k", 1) }},
	{"DeleteIfUnmodifiedSince", func(s *intStore) error { return s.DeleteIfUnmodifiedSince("k", time.Now()) }},
	{"ModifiedSince", func(s *intStore) error { return errOf(s.ModifiedSince(time.Time{})) }},
	{"Watch", func(s *intStore) error { return errOf(s.Watch(bg)) }},
	{"Stats", func(s *intStore) error { return errOf(s.Stats()) }},
}

// The states in which a store is not running.
const (
	nilStore      = "a nil store"
	beforeStart   = "before Start"
	afterShutdown = "after Shutdown"
	afterCancel   = "after Start's context was cancelled"
)

// inState returns a store over cli holding "k" = 1 (unless nil or never
// started) in one of the states above.
func inState(cli *clientv3.Client, state string) *intStore {
	GinkgoHelper()
	switch state {
	case nilStore:
		return nil
	case beforeStart:
		return newStore[int](cli, etcdstore.Config{})
	}
	s := newStore[int](cli, etcdstore.Config{})
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	Expect(s.Start(ctx)).To(Succeed())
	Expect(s.Set("k", 1)).To(Succeed())
	switch state {
	case afterShutdown:
		Expect(s.Shutdown()).To(Succeed())
	case afterCancel:
		cancel()
		Eventually(s.IsRunning).Should(BeFalse())
		Expect(s.Shutdown()).To(Succeed())
	default:
		Fail("unknown state " + state)
	}
	return s
}

func notRunningEntries() []TableEntry {
	var entries []TableEntry
	for _, state := range []string{nilStore, beforeStart, afterShutdown, afterCancel} {
		for _, op := range operations {
			entries = append(entries, Entry(op.name+" "+state, state, op.call))
		}
	}
	return entries
}

// conflictOf checks that err is a *store.ConflictError matching
// store.ErrConflict, and returns it.
func conflictOf(err error) *store.ConflictError {
	GinkgoHelper()
	Expect(err).To(MatchError(store.ErrConflict))
	var ce *store.ConflictError
	Expect(errors.As(err, &ce)).To(BeTrue(), "%v is not a *store.ConflictError", err)
	return ce
}

// etcdRevision returns the mod_revision etcd itself reports for key k of
// s's prefix, 0 when absent.
func etcdRevision(cli *clientv3.Client, prefix, k string) int64 {
	GinkgoHelper()
	resp := must(cli.Get(bg, prefix+k))
	if len(resp.Kvs) == 0 {
		return 0
	}
	return resp.Kvs[0].ModRevision
}

var _ = Describe("New", func() {
	var cli *clientv3.Client
	BeforeEach(func() { cli = clientOf(single) })

	It("accepts a Config with only a Prefix, sends nothing and starts no goroutine", func() {
		before := goleak.IgnoreCurrent()
		s, err := etcdstore.New[int](cli, etcdstore.Config{Prefix: "p/"})
		Expect(err).NotTo(HaveOccurred())
		Expect(s.IsRunning()).To(BeFalse())
		// The members' own peer connections come and go meanwhile.
		Expect(goleak.Find(append(peerTraffic, before)...)).To(Succeed())
	})

	DescribeTable("refuses what it cannot honour with store.ErrInvalidConfig, naming it",
		func(what string, cfg etcdstore.Config, opts ...etcdstore.Option[int]) {
			s, err := etcdstore.New(cli, cfg, opts...)
			Expect(err).To(MatchError(store.ErrInvalidConfig))
			Expect(err).To(MatchError(ContainSubstring(what)))
			Expect(s).To(BeNil())
		},
		Entry("an empty prefix", "Prefix", etcdstore.Config{}),
		Entry("a negative RequestTimeout", "RequestTimeout", etcdstore.Config{Prefix: "p/", RequestTimeout: -time.Second}),
		Entry("a negative TTL", "TTL", etcdstore.Config{Prefix: "p/", TTL: -time.Nanosecond}),
		Entry("a MaxSize", "MaxSize", etcdstore.Config{Prefix: "p/", MaxSize: 10}),
		Entry("a negative MaxSize", "MaxSize", etcdstore.Config{Prefix: "p/", MaxSize: -1}),
		Entry("EvictOldest", "Eviction", etcdstore.Config{Prefix: "p/", Eviction: store.EvictOldest}),
		Entry("an unknown Eviction", "Eviction", etcdstore.Config{Prefix: "p/", Eviction: store.EvictionPolicy(7)}),
		Entry("a nil codec", "Codec", etcdstore.Config{Prefix: "p/"}, etcdstore.WithCodec[int](nil)),
		Entry("a zero watch buffer", "watch buffer", etcdstore.Config{Prefix: "p/"}, etcdstore.WithWatchBuffer[int](0)),
	)

	It("refuses a nil client with store.ErrInvalidConfig", func() {
		s, err := etcdstore.New[int](nil, etcdstore.Config{Prefix: "p/"})
		Expect(err).To(MatchError(store.ErrInvalidConfig))
		Expect(err).To(MatchError(ContainSubstring("client")))
		Expect(s).To(BeNil())
	})
})

var _ = Describe("lifecycle", func() {
	var cli *clientv3.Client
	var s *intStore
	BeforeEach(func() {
		cli = clientOf(single)
		s = newStore[int](cli, etcdstore.Config{})
	})

	It("refuses a nil context with ErrNilContext, a done one with its error, and starts nothing", func() {
		var nilCtx context.Context
		Expect(s.Start(nilCtx)).To(MatchError(store.ErrNilContext))
		ctx, cancel := context.WithCancel(bg)
		cancel()
		Expect(s.Start(ctx)).To(MatchError(context.Canceled))
		Expect(s.IsRunning()).To(BeFalse())
		Expect(s.Set("k", 1)).To(MatchError(store.ErrNotRunning))
		Expect(s.Start(bg)).To(Succeed(), "the refusals leave the store startable")
	})

	It("refuses a second Start with ErrAlreadyRunning and keeps running", func() {
		Expect(s.Start(bg)).To(Succeed())
		Expect(s.Start(bg)).To(MatchError(store.ErrAlreadyRunning))
		Expect(s.IsRunning()).To(BeTrue())
		Expect(s.Set("k", 1)).To(Succeed())
	})

	It("lets exactly one of many concurrent Starts succeed", func() {
		const starters = 16
		results := make(chan error, starters)
		var wg sync.WaitGroup
		for range starters {
			wg.Go(func() { results <- s.Start(bg) })
		}
		waitFor(&wg, "the 16 Starts to return")
		close(results)
		ok := 0
		for err := range results {
			if err == nil {
				ok++
			} else {
				Expect(err).To(MatchError(store.ErrAlreadyRunning))
			}
		}
		Expect(ok).To(Equal(1))
	})

	DescribeTable("every operation returns ErrNotRunning when the store is not running, without blocking",
		func(state string, call func(*intStore) error) {
			Expect(call(inState(cli, state))).To(MatchError(store.ErrNotRunning))
		},
		notRunningEntries(),
	)

	It("yields nothing from All and Keys when not running, and Err is nil", func() {
		for range s.All() {
			Fail("All yielded from a store never started")
		}
		for range s.Keys() {
			Fail("Keys yielded from a store never started")
		}
		Expect(s.Err()).To(Succeed())
		var nilS *intStore
		Expect(nilS.Shutdown()).To(Succeed())
		Expect(nilS.IsRunning()).To(BeFalse())
		Expect(nilS.Start(bg)).To(MatchError(store.ErrNotRunning))
		Expect(nilS.SetWithTTL("k", 1, -time.Second)).To(MatchError(store.ErrInvalidTTL))
	})

	It("keeps the items across Shutdown and Start, and leaves the caller's client open", func() {
		Expect(s.Start(bg)).To(Succeed())
		Expect(s.Set("k", 1)).To(Succeed())
		Expect(s.Shutdown()).To(Succeed())
		Expect(s.Shutdown()).To(Succeed(), "Shutdown is idempotent")
		Expect(s.Set("k", 2)).To(MatchError(store.ErrNotRunning))
		Expect(must(cli.Get(bg, "any")).Header.Revision).To(BeNumerically(">", 0), "the client still works")
		Expect(s.Start(bg)).To(Succeed())
		Expect(must(s.Get("k")).Value).To(Equal(1))
	})

	It("stops when Start's context is cancelled", func() {
		ctx, cancel := context.WithCancel(bg)
		Expect(s.Start(ctx)).To(Succeed())
		cancel()
		Eventually(s.IsRunning).Should(BeFalse())
		Expect(s.Set("k", 1)).To(MatchError(store.ErrNotRunning))
		Expect(s.Start(bg)).To(Succeed())
	})
})

var _ = Describe("the seed's operations", func() {
	var cli *clientv3.Client
	var s *intStore
	var prefix string
	BeforeEach(func() {
		cli = clientOf(single)
		prefix = newPrefix()
		s = running[int](cli, etcdstore.Config{Prefix: prefix})
	})

	It("sets and gets an item whose Revision is etcd's mod_revision", func() {
		Expect(s.Set("k", 1)).To(Succeed())
		item := must(s.Get("k"))
		Expect(item.Value).To(Equal(1))
		Expect(item.Revision).To(Equal(uint64(etcdRevision(cli, prefix, "k"))))
		Expect(item.ExpiresAt.IsZero()).To(BeTrue())
		Expect(item.LastModified).To(BeTemporally("~", time.Now(), time.Minute))
	})

	It("gives writes strictly increasing revisions and LastModified, across keys", func() {
		var last *store.Item[int]
		for i := range 20 {
			k := fmt.Sprintf("k%d", i%3)
			Expect(s.Set(k, i)).To(Succeed())
			item := must(s.Get(k))
			if last != nil {
				Expect(item.Revision).To(BeNumerically(">", last.Revision))
				Expect(item.LastModified).To(BeTemporally(">", last.LastModified))
			}
			last = item
		}
	})

	It("returns ErrNotFound for a missing key, and from Delete of one", func() {
		Expect(s.Get("missing")).Error().To(MatchError(store.ErrNotFound))
		Expect(s.Delete("missing")).To(MatchError(store.ErrNotFound))
	})

	It("deletes; Size, List, Clear see only the prefix", func() {
		other := running[int](cli, etcdstore.Config{})
		Expect(other.Set("a", 100)).To(Succeed())
		Expect(s.SetMany(map[string]int{"a": 1, "b": 2, "c": 3})).To(Succeed())
		Expect(s.Delete("b")).To(Succeed())
		Expect(s.Get("b")).Error().To(MatchError(store.ErrNotFound))
		Expect(s.Size()).To(Equal(2))
		m := must(s.List())
		Expect(m).To(HaveLen(2))
		Expect(m["a"].Value).To(Equal(1))
		Expect(m["c"].Value).To(Equal(3))
		Expect(s.Clear()).To(Succeed())
		Expect(s.Size()).To(BeZero())
		Expect(s.List()).To(BeEmpty())
		Expect(must(other.Get("a")).Value).To(Equal(100), "Clear keeps to its prefix")
	})

	It("keeps any string as a key, the empty one included", func() {
		keys := []string{"", "/", "a/b", "ünïcode", "\x00", "with space"}
		for i, k := range keys {
			Expect(s.Set(k, i)).To(Succeed())
		}
		for i, k := range keys {
			Expect(must(s.Get(k)).Value).To(Equal(i), "%q", k)
		}
		Expect(s.Size()).To(Equal(len(keys)))
	})

	It("lists more items than a page, at one revision", func() {
		const n = 2500
		items := map[string]int{}
		for i := range n {
			items[fmt.Sprintf("k%04d", i)] = i
			if len(items) == 100 {
				Expect(s.SetMany(items)).To(Succeed())
				items = map[string]int{}
			}
		}
		m := must(s.List())
		Expect(m).To(HaveLen(n))
		Expect(m["k2499"].Value).To(Equal(2499))
		Expect(s.Size()).To(Equal(n))
		keys := 0
		for range s.Keys() {
			keys++
		}
		Expect(keys).To(Equal(n))
	})

	It("serves many goroutines at once; each finds its own last writes", func() {
		const workers, writes = 8, 30
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range writes {
					key := fmt.Sprintf("w%d", w)
					Expect(s.Set(key, i)).To(Succeed())
					Expect(must(s.Get(key)).Value).To(Equal(i))
				}
			})
		}
		waitFor(&wg, "the 8 workers to finish their writes")
		Expect(s.Size()).To(Equal(workers))
	})
})
