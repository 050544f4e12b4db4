package lastmodstore_test

// Snapshots in virtual time: the test runs inside a testing/synctest
// bubble, where time.Sleep moves the bubble's clock at once, so expiry
// boundaries are checked to the nanosecond.

import (
	"bytes"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/store"
)

// TestLoadSkipsExpiredItems saves items with TTLs and loads them after
// some have expired, in virtual time.
func TestLoadSkipsExpiredItems(t *testing.T) {
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := NewWithT(t)
		from := snOf(startInBubble[string, int](t, d, store.Config{}))
		g.Expect(from.SetWithTTL("minute", 1, time.Minute)).To(Succeed())
		g.Expect(from.SetWithTTL("hour", 2, time.Hour)).To(Succeed())
		g.Expect(from.Set("forever", 3)).To(Succeed())
		g.Expect(from.SetWithTTL("soon", 4, time.Second)).To(Succeed())
		time.Sleep(2 * time.Second) // "soon" has expired: Save leaves it out
		var buf bytes.Buffer
		g.Expect(from.Save(&buf)).To(Succeed())
		snap := buf.Bytes()
		_, records, err := snapshot.Decode[string, int](bytes.NewReader(snap), snapshot.Gob{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(records).To(HaveLen(3))

		into := snOf(startInBubble[string, int](t, d, store.Config{}))
		time.Sleep(time.Minute - 2*time.Second - time.Nanosecond) // "minute" is 1ns from expiring
		g.Expect(into.Load(bytes.NewReader(snap))).To(Succeed())
		g.Expect(slices.Collect(into.Keys())).To(HaveExactElements("minute", "hour", "forever"))

		time.Sleep(time.Nanosecond) // "minute" expires now, at its ExpiresAt
		g.Expect(into.Load(bytes.NewReader(snap))).To(Succeed())
		g.Expect(slices.Collect(into.Keys())).To(HaveExactElements("hour", "forever"))
		item, err := into.Get("hour")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(item.ExpiresAt.Sub(item.LastModified)).To(Equal(time.Hour), "an item keeps its ExpiresAt")
		st, err := into.Stats()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(st.Expirations).To(BeZero(), "an item not loaded has not expired in this store")
		g.Expect(st.Items).To(Equal(2))

		time.Sleep(time.Hour)
		g.Expect(slices.Collect(into.Keys())).To(HaveExactElements("forever"), "a loaded item expires at its ExpiresAt")
	})
}
