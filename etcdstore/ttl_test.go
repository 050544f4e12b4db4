package etcdstore_test

import (
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// leaseOf returns the lease etcd has key k of prefix on, 0 for none.
func leaseOf(cli *clientv3.Client, prefix, k string) clientv3.LeaseID {
	GinkgoHelper()
	resp := must(cli.Get(bg, prefix+k))
	Expect(resp.Kvs).To(HaveLen(1), "key %q", k)
	return clientv3.LeaseID(resp.Kvs[0].Lease)
}

// present reports whether etcd still holds key k of prefix.
func present(cli *clientv3.Client, prefix, k string) func() bool {
	return func() bool {
		resp, err := cli.Get(bg, prefix+k)
		return err == nil && len(resp.Kvs) > 0
	}
}

// These specs use real leases: the cluster's shortest is one second.
var _ = Describe("expiry by lease", func() {
	var cli *clientv3.Client
	var prefix string
	BeforeEach(func() {
		cli = clientOf(single)
		prefix = newPrefix()
	})

	It("hides an item from its ExpiresAt on, and the cluster removes it when its lease runs out, which a watcher sees as EventExpire", func() {
		s := running[int](cli, etcdstore.Config{Prefix: prefix})
		w, _ := watch(s)
		Expect(s.SetWithTTL("long", 1, time.Hour)).To(Succeed())
		Expect(s.SetWithTTL("short", 2, 200*time.Millisecond)).To(Succeed())
		item := must(s.Get("short"))
		Expect(item.ExpiresAt).To(Equal(item.LastModified.Add(200 * time.Millisecond)))
		Expect(nextN(w, 2)).To(Equal([]seen{{store.EventPut, "long", 1}, {store.EventPut, "short", 2}}))

		Eventually(func() error { return errOf(s.Get("short")) }).Should(MatchError(store.ErrNotFound))
		Expect(time.Now()).To(BeTemporally(">=", item.ExpiresAt))
		Expect(s.Size()).To(Equal(1))
		Expect(s.List()).To(HaveLen(1))
		Expect(s.GetMany([]string{"short", "long"})).To(HaveLen(1))

		Eventually(present(cli, prefix, "short")).Should(BeFalse(), "the lease ran out")
		Expect(must(s.Stats()).Items).To(Equal(1))
		Expect(summary(next(w))).To(Equal(seen{store.EventExpire, "short", 2}))
		Expect(must(s.Get("long")).Value).To(Equal(1))
	})

	It("puts items that expire in the same second on one lease, others on their own, and none on a lease without a TTL", func() {
		s := running[int](cli, etcdstore.Config{Prefix: prefix})
		// Expiries half a second into a second well ahead, so both fall in
		// it however long the first write takes.
		at := time.Now().Add(10 * time.Second).Truncate(time.Second).Add(500 * time.Millisecond)
		Expect(s.SetWithTTL("a", 1, time.Until(at))).To(Succeed())
		Expect(s.SetWithTTL("b", 2, time.Until(at.Add(-100*time.Millisecond)))).To(Succeed())
		Expect(s.SetWithTTL("c", 3, time.Until(at.Add(2*time.Second)))).To(Succeed())
		Expect(s.Set("d", 4)).To(Succeed())
		Expect(leaseOf(cli, prefix, "a")).NotTo(BeZero())
		Expect(leaseOf(cli, prefix, "b")).To(Equal(leaseOf(cli, prefix, "a")))
		Expect(leaseOf(cli, prefix, "c")).NotTo(Equal(leaseOf(cli, prefix, "a")))
		Expect(leaseOf(cli, prefix, "d")).To(BeZero())

		// A lease that outlives the item: granted for whole seconds past
		// its expiry.
		ttl := must(cli.TimeToLive(bg, leaseOf(cli, prefix, "a")))
		Expect(time.Now().Add(time.Duration(ttl.TTL) * time.Second)).To(BeTemporally(">=", at.Add(-time.Second)))
	})

	It("gives the longest TTL a lease that long, and an ExpiresAt at the end of time (2262)", func() {
		s := running[int](cli, etcdstore.Config{Prefix: prefix})
		Expect(s.SetWithTTL("k", 1, time.Duration(math.MaxInt64))).To(Succeed())
		item := must(s.Get("k"))
		Expect(item.ExpiresAt).To(Equal(time.Unix(0, math.MaxInt64)))
		ttl := must(cli.TimeToLive(bg, leaseOf(cli, prefix, "k")))
		Expect(time.Duration(ttl.TTL) * time.Second).To(BeNumerically(">", 200*365*24*time.Hour))
	})

	It("gets a new lease when the cluster no longer has the one the store shared", func() {
		s := running[int](cli, etcdstore.Config{Prefix: prefix})
		at := time.Now().Add(10 * time.Second).Truncate(time.Second).Add(500 * time.Millisecond)
		Expect(s.SetWithTTL("a", 1, time.Until(at))).To(Succeed())
		lease := leaseOf(cli, prefix, "a")
		Expect(cli.Revoke(bg, lease)).Error().NotTo(HaveOccurred())
		Expect(s.SetWithTTL("b", 2, time.Until(at.Add(-100*time.Millisecond)))).To(Succeed())
		Expect(leaseOf(cli, prefix, "b")).NotTo(Equal(lease))
		Expect(must(s.Get("b")).Value).To(Equal(2))
	})

	It("gives the Config's TTL to Set, SetMany and CompareAndSet, and none to SetWithTTL of 0", func() {
		s := running[int](cli, etcdstore.Config{Prefix: prefix, TTL: time.Hour})
		Expect(s.Set("a", 1)).To(Succeed())
		Expect(s.SetMany(map[string]int{"b": 2})).To(Succeed())
		Expect(s.CompareAndSet("c", 3, 0)).Error().NotTo(HaveOccurred())
		Expect(s.SetWithTTL("forever", 4, 0)).To(Succeed())
		for _, k := range []string{"a", "b", "c"} {
			item := must(s.Get(k))
			Expect(item.ExpiresAt).To(Equal(item.LastModified.Add(time.Hour)), k)
			Expect(leaseOf(cli, prefix, k)).NotTo(BeZero())
		}
		Expect(must(s.Get("forever")).ExpiresAt.IsZero()).To(BeTrue())
		Expect(leaseOf(cli, prefix, "forever")).To(BeZero())
	})

	It("treats an expired item the cluster has not yet removed as absent in every operation", func() {
		s := running[int](cli, etcdstore.Config{Prefix: prefix})
		Expect(s.SetWithTTL("k", 1, 50*time.Millisecond)).To(Succeed())
		old := must(s.Get("k"))
		Eventually(func() error { return errOf(s.Get("k")) }).Should(MatchError(store.ErrNotFound))
		Expect(present(cli, prefix, "k")()).To(BeTrue(), "its lease is still running: this spec needs it to be")

		Expect(conflictOf(errOf(s.CompareAndSet("k", 2, old.Revision))).Revision).To(BeZero())
		Expect(conflictOf(errOf(s.SetIfUnmodifiedSince("k", 2, time.Now()))).Revision).To(BeZero())
		Expect(conflictOf(s.CompareAndDelete("k", old.Revision)).Revision).To(BeZero())
		Expect(conflictOf(s.DeleteIfUnmodifiedSince("k", time.Now())).Revision).To(BeZero())
		Expect(s.ModifiedSince(time.Time{})).To(BeEmpty())

		item, err := s.CompareAndSet("k", 3, 0)
		Expect(err).NotTo(HaveOccurred(), "create-only writes over an expired item")
		Expect(item.ExpiresAt.IsZero()).To(BeTrue())
		Expect(must(s.Get("k"))).To(Equal(item))

		Expect(s.SetWithTTL("gone", 1, 50*time.Millisecond)).To(Succeed())
		Eventually(func() error { return errOf(s.Get("gone")) }).Should(MatchError(store.ErrNotFound))
		Expect(s.Delete("gone")).To(MatchError(store.ErrNotFound), "an expired item is not found, and removed")
		Expect(present(cli, prefix, "gone")()).To(BeFalse())
	})
})
