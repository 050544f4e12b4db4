package lastmodstore_test

// Regression tests, for both designs, of guarantees an outside review
// found broken; each failed before its fix.

import (
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/store"
)

// An expired item is never counted, and makes room for a new key, even
// beside an item whose expiry lies past 2262, where Unix nanoseconds end.
// The expiry index used to wrap that expiry negative, sort it first and
// stop every sweep, Size and capacity check at it.
func TestGuaranteeExpiryBesideAFarFutureTTL(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s := startInBubble[string, int](t, d, store.Config{MaxSize: 2, CleanupInterval: time.Minute})
		g.Expect(s.SetWithTTL("far", 1, time.Duration(math.MaxInt64))).To(gomega.Succeed())
		g.Expect(s.SetWithTTL("short", 2, time.Second)).To(gomega.Succeed())
		far, err := s.Get("far")
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(far.ExpiresAt.Year()).To(gomega.BeNumerically(">", 2262))

		time.Sleep(2 * time.Second)
		g.Expect(s.Size()).To(gomega.Equal(1), "the short item expired")
		g.Expect(s.Set("new", 3)).To(gomega.Succeed(), "the expired item made room")
		g.Expect(s.SetWithTTL("short", 4, time.Second)).To(gomega.MatchError(store.ErrStoreFull))

		g.Expect(s.Delete("new")).To(gomega.Succeed())
		g.Expect(s.SetWithTTL("short", 4, time.Second)).To(gomega.Succeed())
		time.Sleep(time.Minute) // a sweep runs
		synctest.Wait()
		st, err := s.Stats()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(st.Items).To(gomega.Equal(1), "the sweep removed the expired item")
		g.Expect(st.Expirations).To(gomega.Equal(uint64(2)))
	})
}

// A key that is not equal to itself — one holding a NaN — could be stored
// but never found or deleted; each Set added another, past MaxSize, until
// the owner panicked (and the mutex design kept its lock). Every operation
// of both designs now refuses it with ErrInvalidKey.
func TestGuaranteeNaNKeysAreInvalid(t *testing.T) {
	nan := math.NaN()
	t.Run("float64", func(t *testing.T) { checkInvalidKey(t, nan, 1.5) })
	t.Run("float32", func(t *testing.T) { checkInvalidKey(t, float32(nan), 1.5) })
	t.Run("any", func(t *testing.T) { checkInvalidKey[any](t, nan, "fine") })
	t.Run("array", func(t *testing.T) { checkInvalidKey(t, [2]float64{1, nan}, [2]float64{1, 2}) })
	t.Run("struct", func(t *testing.T) {
		type point struct{ X, Y float64 }
		checkInvalidKey(t, point{nan, 0}, point{1, 0})
	})
	t.Run("complex", func(t *testing.T) { checkInvalidKey(t, complex(0, nan), complex(0, 1)) })
	t.Run("any holding an array", func(t *testing.T) { checkInvalidKey[any](t, [1]float64{nan}, [1]float64{1}) })
}

// checkInvalidKey checks that every operation of both designs refuses bad
// with ErrInvalidKey, changing nothing, while good works beside it.
func checkInvalidKey[K comparable](t *testing.T, bad, good K) {
	forEachDesign(t, func(t *testing.T, d design) {
		g := gomega.NewWithT(t)
		s, err := openerFor[K, int](d)(store.Config{MaxSize: 2, Eviction: store.EvictOldest})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(s.Start(bg)).To(gomega.Succeed())
		defer func() { g.Expect(s.Shutdown()).To(gomega.Succeed()) }()

		g.Expect(s.Set(good, 1)).To(gomega.Succeed())
		for i := range 6 {
			g.Expect(s.Set(bad, i)).To(gomega.MatchError(store.ErrInvalidKey), "Set %d", i)
		}
		invalid := func(name string, err error) {
			t.Helper()
			if !errors.Is(err, store.ErrInvalidKey) {
				t.Errorf("%s: %v, want ErrInvalidKey", name, err)
			}
		}
		invalid("SetWithTTL", s.SetWithTTL(bad, 1, time.Hour))
		invalid("Get", errOf(s.Get(bad)))
		invalid("Delete", s.Delete(bad))
		invalid("CompareAndSet", errOf(s.CompareAndSet(bad, 1, 0)))
		invalid("SetIfUnmodifiedSince", errOf(s.SetIfUnmodifiedSince(bad, 1, time.Now())))
		invalid("GetMany", errOf(s.GetMany([]K{good, bad})))
		invalid("SetMany", s.SetMany(map[K]int{good: 2, bad: 3}))

		g.Expect(s.Size()).To(gomega.Equal(1), "nothing but the good key was stored")
		item, err := s.Get(good)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(item.Value).To(gomega.Equal(1), "the refused SetMany wrote nothing")
		g.Expect(s.Delete(good)).To(gomega.Succeed())
		g.Expect(s.Size()).To(gomega.BeZero())
	})
}
