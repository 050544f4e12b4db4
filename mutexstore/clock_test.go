package mutexstore_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/internal/testclock"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// An item a read-locked look finds expired is judged again under the write
// lock, which removes it if it agrees: not found must hold for every call
// that follows, and a Touch after it must not find the item live.
var _ = Describe("a Get that finds an item expired", func() {
	var (
		leaks goleak.Option
		clock *testclock.AheadOnce
		s     *mutexstore.Store[string, int]
	)
	BeforeEach(func() {
		leaks = goleak.IgnoreCurrent()
		clock = &testclock.AheadOnce{At: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
		var err error
		// No sweep may take the one look ahead: the cleaners wait an hour.
		s, err = mutexstore.New(store.Config{CleanupInterval: time.Hour}, mutexstore.WithClock[string, int](clock.Now))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Start(context.Background())).To(Succeed())
		Expect(s.SetWithTTL("k", 1, time.Minute)).To(Succeed())
		Expect(s.Set("plain", 2)).To(Succeed())
		// The look under the read lock finds k expired, the next look,
		// under the write lock, live.
		clock.Ahead.Store(true)
	})
	AfterEach(func() {
		Expect(s.Shutdown()).To(Succeed())
		Expect(goleak.Find(leaks)).To(Succeed())
	})

	It("returns it when the write lock's look, by a clock that stepped back, finds it live", func() {
		item, err := s.Get("k")
		Expect(err).NotTo(HaveOccurred())
		Expect(item.Value).To(Equal(1))
		Expect(clock.Ahead.Load()).To(BeFalse(), "the Get looked at the clock")
		st, err := s.Stats()
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Hits).To(Equal(uint64(1)))
		Expect(st.Misses).To(BeZero())
		Expect(st.Items).To(Equal(2))
	})

	It("in a GetMany, answers every key again at the write lock's one instant", func() {
		items, err := s.GetMany([]string{"plain", "k"})
		Expect(err).NotTo(HaveOccurred())
		Expect(items).To(HaveLen(2))
		Expect(items["k"].Value).To(Equal(1))
		Expect(items["plain"].Value).To(Equal(2))
		Expect(clock.Ahead.Load()).To(BeFalse(), "the GetMany looked at the clock")
	})
})
