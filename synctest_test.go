package lastmodstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/store"
)

// These tests run the store inside a synctest bubble: time.Sleep advances
// the bubble's virtual clock at once, and synctest.Wait returns when every
// goroutine of the bubble is blocked. Each store is created, started and
// shut down inside its bubble, so its goroutines and its ticker belong to
// it; synctest.Test fails if any goroutine is left when the test returns.
// Every test runs once per design (designs_test.go), each in a bubble of
// its own.

func TestTTLBoundaryWithoutSweep(t *testing.T) {
	visible := map[string]func(s intStore) (bool, error){
		"Get": func(s intStore) (bool, error) {
			_, err := s.Get("k")
			if errors.Is(err, store.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		},
		"List": func(s intStore) (bool, error) {
			m, err := s.List()
			_, ok := m["k"]
			return ok, err
		},
		"Size": func(s intStore) (bool, error) {
			n, err := s.Size()
			return n == 1, err
		},
	}
	for name, visible := range visible {
		t.Run(name, func(t *testing.T) {
			inBubblePerDesign(t, func(t *testing.T, d design) {
				g := gomega.NewWithT(t)
				s := startInBubble[string, int](t, d, store.Config{}) // CleanupInterval 0: no sweep
				start := time.Now()
				g.Expect(s.SetWithTTL("k", 1, time.Hour)).To(gomega.Succeed())

				time.Sleep(59*time.Minute + 59*time.Second)
				g.Expect(visible(s)).To(gomega.BeTrue(), "at 59m59s")
				time.Sleep(time.Second - time.Nanosecond)
				g.Expect(visible(s)).To(gomega.BeTrue(), "at 1h - 1ns")
				time.Sleep(time.Nanosecond)
				g.Expect(time.Since(start)).To(gomega.Equal(time.Hour))
				g.Expect(visible(s)).To(gomega.BeFalse(), "at 1h")
				g.Expect(s.Get("k")).Error().To(gomega.MatchError(store.ErrNotFound))
				g.Expect(s.Size()).To(gomega.BeZero())
				g.Expect(s.List()).To(gomega.BeEmpty())
			})
		})
	}
}

func TestItemTimesInVirtualTime(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{})
		start := time.Now().Round(0)
		g.Expect(s.SetWithTTL("k", 1, time.Hour)).To(gomega.Succeed())
		item, err := s.Get("k")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.LastModified).To(gomega.Equal(start))
		g.Expect(item.ExpiresAt).To(gomega.Equal(start.Add(time.Hour)))
	})
}

func TestConfigTTLIsTheDefault(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{TTL: time.Minute})
		g.Expect(s.Set("default", 1)).To(gomega.Succeed())
		g.Expect(s.SetWithTTL("never", 2, 0)).To(gomega.Succeed())
		g.Expect(s.SetWithTTL("longer", 3, 2*time.Minute)).To(gomega.Succeed())
		item, err := s.Get("default")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.ExpiresAt).To(gomega.Equal(item.LastModified.Add(time.Minute)))

		time.Sleep(time.Minute - time.Nanosecond)
		g.Expect(s.Size()).To(gomega.Equal(3))
		time.Sleep(time.Nanosecond)
		g.Expect(s.Get("default")).Error().To(gomega.MatchError(store.ErrNotFound))
		g.Expect(s.Size()).To(gomega.Equal(2))

		// Time stood still during the three writes, so "longer" was
		// stamped 2ns after "default".
		longer, err := s.Get("longer")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(longer.ExpiresAt).To(gomega.Equal(longer.LastModified.Add(2 * time.Minute)))
		time.Sleep(time.Until(longer.ExpiresAt) - time.Nanosecond)
		g.Expect(s.Size()).To(gomega.Equal(2))
		time.Sleep(time.Nanosecond)
		g.Expect(s.Get("longer")).Error().To(gomega.MatchError(store.ErrNotFound))

		time.Sleep(1000 * time.Hour)
		item, err = s.Get("never")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.Value).To(gomega.Equal(2))
		g.Expect(item.ExpiresAt.IsZero()).To(gomega.BeTrue())
		g.Expect(s.Size()).To(gomega.Equal(1))
	})
}

// TestSizeRemovesExpiredInSteps checks that a Size that finds more
// expired items than one step removes (table.SizeStep, lowered to 2)
// still removes them all and counts exactly the live ones.
func TestSizeRemovesExpiredInSteps(t *testing.T) {
	defer func(step int) { table.SizeStep = step }(table.SizeStep)
	table.SizeStep = 2
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{}) // CleanupInterval 0: no sweep
		for i := range 7 {
			g.Expect(s.SetWithTTL(fmt.Sprint("brief", i), i, time.Minute)).To(gomega.Succeed())
		}
		for i := range 3 {
			g.Expect(s.Set(fmt.Sprint("kept", i), i)).To(gomega.Succeed())
		}
		g.Expect(s.Size()).To(gomega.Equal(10))
		// Time stands still in the bubble, so the writes were stamped a
		// nanosecond apart: a second more is past every ExpiresAt.
		time.Sleep(time.Minute + time.Second)
		g.Expect(s.Size()).To(gomega.Equal(3), "seven expired, removed two a step")
		st, err := s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Expirations).To(gomega.Equal(uint64(7)))
		g.Expect(st.Items).To(gomega.Equal(3))
	})
}

func TestPeriodicSweep(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{CleanupInterval: time.Minute, TTL: 30 * time.Second})
		const n = 10_000
		for i := range n {
			g.Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(gomega.Succeed())
		}
		g.Expect(s.SetWithTTL("kept", -1, 0)).To(gomega.Succeed())
		g.Expect(s.Size()).To(gomega.Equal(n + 1))

		// Stats counts expired items not yet removed, and does not remove
		// them itself, so it shows what the sweeps did.
		time.Sleep(time.Minute - time.Nanosecond)
		synctest.Wait()
		st, err := s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Items).To(gomega.Equal(n+1), "expired at 30s, but no sweep before 1m")
		g.Expect(st.Expirations).To(gomega.BeZero())

		time.Sleep(time.Nanosecond) // the first tick: a sweep in bounded steps
		synctest.Wait()
		st, err = s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Items).To(gomega.Equal(1), "the sweep at 1m removed every expired item")
		g.Expect(st.Expirations).To(gomega.Equal(uint64(n)))

		time.Sleep(time.Minute)
		g.Expect(s.Size()).To(gomega.Equal(1))
		m, err := s.List()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(m).To(gomega.HaveLen(1))
		g.Expect(m).To(gomega.HaveKey("kept"))

		// The ticker keeps running: hours of idle sweeps, then new writes
		// expire and are swept like the first ones.
		time.Sleep(3 * time.Hour)
		for i := range 1000 {
			g.Expect(s.Set(fmt.Sprintf("late%d", i), i)).To(gomega.Succeed())
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		st, err = s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Items).To(gomega.Equal(1))
		g.Expect(st.Expirations).To(gomega.Equal(uint64(n + 1000)))

		g.Expect(s.Shutdown()).To(gomega.Succeed())
		g.Expect(s.IsRunning()).To(gomega.BeFalse())
	})
}

func TestNoSweepWithoutCleanupInterval(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{TTL: time.Second})
		for i := range 100 {
			g.Expect(s.Set(fmt.Sprintf("k%d", i), i)).To(gomega.Succeed())
		}
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		st, err := s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Items).To(gomega.Equal(100), "nothing swept: CleanupInterval is 0")
		g.Expect(st.Expirations).To(gomega.BeZero())
		// Yet no expired item shows.
		g.Expect(s.Size()).To(gomega.BeZero())
		g.Expect(s.List()).To(gomega.BeEmpty())
	})
}

func TestShutdownInsideBubble(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s, err := openerFor[string, int](d)(store.Config{CleanupInterval: time.Second, WorkerCount: 4})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(s.Start(context.Background())).To(gomega.Succeed())
		g.Expect(s.Set("a", 1)).To(gomega.Succeed())
		time.Sleep(time.Minute) // some ticks

		g.Expect(s.Shutdown()).To(gomega.Succeed())
		g.Expect(s.IsRunning()).To(gomega.BeFalse())
		g.Expect(s.Set("b", 2)).To(gomega.MatchError(store.ErrNotRunning))
		synctest.Wait() // nothing of the store may still be running

		g.Expect(s.Start(context.Background())).To(gomega.Succeed())
		item, err := s.Get("a")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.Value).To(gomega.Equal(1))
		g.Expect(s.Shutdown()).To(gomega.Succeed())
		// synctest.Test fails if a goroutine of the store outlives this.
	})
}

func TestContextCancelInsideBubble(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s, err := openerFor[string, int](d)(store.Config{CleanupInterval: time.Second})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		// Only when an assertion failed: otherwise the cancelled context
		// alone must end every goroutine before the bubble ends.
		t.Cleanup(func() {
			if t.Failed() {
				_ = s.Shutdown()
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		g.Expect(s.Start(ctx)).To(gomega.Succeed())
		g.Expect(s.Set("a", 1)).To(gomega.Succeed())

		cancel()
		synctest.Wait()
		g.Expect(s.IsRunning()).To(gomega.BeFalse())
		g.Expect(s.Set("b", 2)).To(gomega.MatchError(store.ErrNotRunning))
		g.Expect(s.Err()).To(gomega.Succeed())
	})
}

func TestContextDeadlineInsideBubble(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s, err := openerFor[string, int](d)(store.Config{})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		t.Cleanup(func() { _ = s.Shutdown() })
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		g.Expect(s.Start(ctx)).To(gomega.Succeed())

		time.Sleep(time.Minute - time.Nanosecond)
		synctest.Wait()
		g.Expect(s.IsRunning()).To(gomega.BeTrue())
		g.Expect(s.Set("a", 1)).To(gomega.Succeed())

		time.Sleep(time.Nanosecond)
		synctest.Wait()
		g.Expect(s.IsRunning()).To(gomega.BeFalse())
		g.Expect(s.Get("a")).Error().To(gomega.MatchError(store.ErrNotRunning))
		g.Expect(s.Err()).To(gomega.Succeed())

		g.Expect(s.Start(context.Background())).To(gomega.Succeed())
		item, err := s.Get("a")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.Value).To(gomega.Equal(1))
		g.Expect(s.Shutdown()).To(gomega.Succeed())
	})
}

func TestLastModifiedWhenTimeStandsStill(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{})
		start := time.Now().Round(0)
		var prev *store.Item[int]
		for i := range 1000 {
			key := fmt.Sprintf("k%d", i%10)
			g.Expect(s.Set(key, i)).To(gomega.Succeed())
			item, err := s.Get(key)
			g.Expect(err).NotTo(gomega.HaveOccurred())
			if prev == nil {
				g.Expect(item.LastModified).To(gomega.Equal(start))
			} else {
				g.Expect(item.LastModified).To(gomega.Equal(prev.LastModified.Add(time.Nanosecond)), "write %d", i)
				g.Expect(item.Revision).To(gomega.BeNumerically(">", prev.Revision), "write %d", i)
			}
			prev = item
		}
		g.Expect(time.Now().Round(0)).To(gomega.Equal(start), "virtual time stood still")

		// The clock moving forward, but not past the latest stamp, still
		// gives one nanosecond more; past it, the clock's own time.
		time.Sleep(time.Nanosecond)
		g.Expect(s.Set("next", 0)).To(gomega.Succeed())
		item, err := s.Get("next")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.LastModified).To(gomega.Equal(prev.LastModified.Add(time.Nanosecond)))

		time.Sleep(time.Hour)
		g.Expect(s.Set("later", 0)).To(gomega.Succeed())
		item, err = s.Get("later")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.LastModified).To(gomega.Equal(start.Add(time.Hour + time.Nanosecond)))
	})
}
