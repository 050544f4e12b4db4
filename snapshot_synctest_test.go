package lastmodstore_test

// Snapshots in virtual time: the test runs inside a testing/synctest
// bubble, where time.Sleep moves the bubble's clock at once, so expiry
// boundaries are checked to the nanosecond.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/internal/kv"
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

// TestTouchAfterLoadSlidesByTheWrittenTTL is issue 16's recipe: an item
// written with a TTL of 10s, touched 8s later, saved and loaded into a
// new store, then touched again 1s later must expire 10s after that
// touch, however many save, load and touch cycles it went through. Before
// snapshots carried the TTL, a load took ExpiresAt − LastModified for it
// (18s after the first touch), and each cycle added more. Touch is called
// directly and, with Config.TouchOnGet, through Get (which the lock-free
// design refuses).
func TestTouchAfterLoadSlidesByTheWrittenTTL(t *testing.T) {
	for _, touchOnGet := range []bool{false, true} {
		t.Run(fmt.Sprintf("TouchOnGet=%v", touchOnGet), func(t *testing.T) {
			inBubblePerDesign(t, func(t *testing.T, d design) {
				if touchOnGet && d.lockFree {
					return // New refuses TouchOnGet with LockFreeReads
				}
				g := NewWithT(t)
				cfg := store.Config{TouchOnGet: touchOnGet}
				touch := func(s kv.SnapshotStore[string, int]) *store.Item[int] {
					t.Helper()
					var item *store.Item[int]
					var err error
					if touchOnGet {
						item, err = s.Get("k")
					} else {
						item, err = s.(kv.Loading[string, int]).Touch("k")
					}
					g.Expect(err).NotTo(HaveOccurred())
					return item
				}
				visible := func(s kv.SnapshotStore[string, int]) bool {
					t.Helper()
					list, err := s.List() // List touches nothing, even with TouchOnGet
					g.Expect(err).NotTo(HaveOccurred())
					_, listed := list["k"]
					if !touchOnGet { // Get reads the read index in the lock-free design
						_, err := s.Get("k")
						g.Expect(err == nil).To(Equal(listed), "Get and List agree")
					}
					return listed
				}

				s := snOf(startInBubble[string, int](t, d, cfg))
				g.Expect(s.SetWithTTL("k", 1, 10*time.Second)).To(Succeed())
				written, err := s.List()
				g.Expect(err).NotTo(HaveOccurred())
				time.Sleep(8 * time.Second)
				g.Expect(time.Until(touch(s).ExpiresAt)).To(Equal(10 * time.Second))
				for cycle := range 3 {
					var buf bytes.Buffer
					g.Expect(s.Save(&buf)).To(Succeed())
					s = snOf(startInBubble[string, int](t, d, cfg))
					g.Expect(s.Load(&buf)).To(Succeed())
					time.Sleep(time.Second)
					item := touch(s)
					g.Expect(time.Until(item.ExpiresAt)).To(Equal(10*time.Second), "cycle %d: touched 10s out", cycle)
					g.Expect(item.LastModified.Equal(written["k"].LastModified)).To(BeTrue(), "cycle %d: a touch is not a write", cycle)
				}
				time.Sleep(10*time.Second - time.Nanosecond)
				g.Expect(visible(s)).To(BeTrue(), "1ns before 10s after the last touch")
				time.Sleep(time.Nanosecond)
				g.Expect(visible(s)).To(BeFalse(), "10s after the last touch")
			})
		})
	}
}

// TestLoadVersion1SnapshotImpliesTTL loads the version 1 snapshot kept in
// testdata, which records no TTLs: each item gets ExpiresAt −
// LastModified, as before version 2, and keeps it through a Save (of
// version 2) and a Load. The file holds, in virtual time (the bubble
// starts at 2000-01-01 00:00 UTC): "forever", written at 23:00 the day
// before and never expiring; "hour", written at 23:30 to expire at 00:30;
// "touched", written at 23:45 to expire at 00:15.
func TestLoadVersion1SnapshotImpliesTTL(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join("testdata", "v1-string-int.snap"))
	if err != nil {
		t.Fatal(err)
	}
	if h, _, err := snapshot.Decode[string, int](bytes.NewReader(v1), snapshot.Gob{}); err != nil || h.Version != 1 {
		t.Fatalf("testdata/v1-string-int.snap: version %d, error %v; want version 1", h.Version, err)
	}
	inBubblePerDesign(t, func(t *testing.T, d design) {
		g := NewWithT(t)
		s := snOf(startInBubble[string, int](t, d, store.Config{}))
		g.Expect(s.Load(bytes.NewReader(v1))).To(Succeed())
		g.Expect(slices.Collect(s.Keys())).To(HaveExactElements("forever", "hour", "touched"))
		slides := func(s kv.SnapshotStore[string, int], want map[string]time.Duration) {
			t.Helper()
			for k, ttl := range want {
				item, err := s.(kv.Loading[string, int]).Touch(k)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(time.Until(item.ExpiresAt)).To(Equal(ttl), "Touch(%q)", k)
			}
		}
		slides(s, map[string]time.Duration{"hour": time.Hour, "touched": 30 * time.Minute})

		var buf bytes.Buffer
		g.Expect(s.Save(&buf)).To(Succeed())
		h, _, err := snapshot.Decode[string, int](bytes.NewReader(buf.Bytes()), snapshot.Gob{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(h.Version).To(Equal(snapshot.Version), "Save writes the current version")
		into := snOf(startInBubble[string, int](t, d, store.Config{}))
		g.Expect(into.Load(&buf)).To(Succeed())
		time.Sleep(time.Minute)
		slides(into, map[string]time.Duration{"hour": time.Hour, "touched": 30 * time.Minute})
		item, err := into.Get("forever")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(item.ExpiresAt.IsZero()).To(BeTrue(), "an item that never expires is not given one")
	})
}
