package table

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/messages"
)

// walkRecord is what a walk must give for an item: all of it but ExpiresAt,
// which a Touch after the start may have slid.
type walkRecord struct {
	key          string
	value        int
	revision     uint64
	lastModified time.Time
	ttl          time.Duration
}

func walkRecords(entries []messages.Entry[string, int]) []walkRecord {
	out := make([]walkRecord, len(entries))
	for i, e := range entries {
		out[i] = walkRecord{e.Key, e.Item.Value, e.Item.Revision, e.Item.LastModified, e.TTL}
	}
	return out
}

// walkUnderWay is a walk a spec runs in steps, beside what it expects.
type walkUnderWay struct {
	walk  *Walk[string, int]
	since time.Time
	want  []messages.Entry[string, int] // the snapshot at its start
	read  []messages.Entry[string, int]
}

// finish ends the walk and checks it against the snapshot of its start.
func (u *walkUnderWay) finish(tab *Table[string, int], revision uint64, last time.Time) {
	GinkgoHelper()
	for steps, more := 0, true; more; steps++ {
		// A walk that never says it is done fails here, not at the
		// suite's timeout: it has fewer entries than the table holds.
		Expect(steps).To(BeNumerically("<=", len(tab.itemsMap())+len(u.want)), "the walk to end")
		u.read, more = u.walk.Step(7, u.read)
	}
	missed, rev, l := u.walk.Finish()
	Expect(rev).To(Equal(revision), "the revision counter at the start")
	Expect(l).To(Equal(last), "the latest LastModified at the start")
	got := Merge(u.read, missed)
	Expect(walkRecords(got)).To(Equal(walkRecords(u.want)), "the live items of the start, in modification order")
	for i, e := range got {
		Expect(e.Item.ExpiresAt.Before(u.want[i].Item.ExpiresAt)).To(BeFalse(), "%s's expiry, slid or not", e.Key)
	}
	Expect(tab.walks).NotTo(ContainElement(u.walk), "Finish ends the walk")
}

var _ = Describe("a walk", func() {
	var (
		clock *fakeClock
		tab   *Table[string, int]
	)
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	BeforeEach(func() {
		clock = &fakeClock{t: start}
		tab = New[string, int](Config{Clock: clock.now, MaxSize: 48, EvictOldest: true, ReadIndex: true})
	})
	AfterEach(func() { checkIndexes(tab) })

	snapshotSince := func(since time.Time) []messages.Entry[string, int] {
		all, _, _ := tab.Snapshot()
		return slices.DeleteFunc(all, func(e messages.Entry[string, int]) bool { return !e.Item.LastModified.After(since) })
	}

	It("merges what it read and what it missed by revision, in place when read has room", func() {
		entry := func(rev uint64) messages.Entry[string, int] {
			return messages.Entry[string, int]{Key: fmt.Sprint(rev), Item: &messages.Item[int]{Revision: rev}}
		}
		revisions := func(es []messages.Entry[string, int]) []uint64 {
			out := make([]uint64, len(es))
			for i, e := range es {
				out[i] = e.Item.Revision
			}
			return out
		}
		missed := []messages.Entry[string, int]{entry(1), entry(4), entry(9)}
		want := []uint64{1, 2, 3, 4, 5, 8, 9}
		tight := []messages.Entry[string, int]{entry(2), entry(3), entry(5), entry(8)}
		Expect(revisions(Merge(tight, missed))).To(Equal(want), "read with no room")
		roomy := append(make([]messages.Entry[string, int], 0, 7), entry(2), entry(3), entry(5), entry(8))
		merged := Merge(roomy, missed)
		Expect(revisions(merged)).To(Equal(want), "read with room")
		Expect(&merged[0]).To(BeIdenticalTo(&roomy[:1][0]), "merged in read's array")
		Expect(revisions(Merge(nil, missed))).To(Equal([]uint64{1, 4, 9}))
		Expect(revisions(Merge(tight, nil))).To(Equal([]uint64{2, 3, 5, 8}))
	})

	It("reads at most n entries a step", func() {
		for i := range 40 {
			tab.Set(fmt.Sprint(i), i, 0)
		}
		w := tab.StartWalk(time.Time{})
		var read []messages.Entry[string, int]
		steps := 0
		for more := true; more; steps++ {
			Expect(steps).To(BeNumerically("<", 3), "40 entries in three steps of 16, then done")
			before := len(read)
			read, more = w.Step(16, read)
			Expect(len(read) - before).To(BeNumerically("<=", 16))
		}
		Expect(steps).To(Equal(3), "40 entries in steps of 16")
		missed, _, _ := w.Finish()
		Expect(missed).To(BeEmpty())
		Expect(read).To(HaveLen(40))
	})

	It("gives the live items of its start, in modification order, whatever changes between its steps", func() {
		rng := rand.New(rand.NewPCG(7, 11))
		key := func() string { return fmt.Sprint("k", rng.IntN(64)) }
		var walks []*walkUnderWay
		begin := func() {
			since := time.Time{}
			if rng.IntN(3) == 0 {
				since = clock.t.Add(-time.Duration(rng.IntN(200)) * time.Millisecond)
			}
			tab.Sweep(0, 0) // the snapshot, read by Snapshot, has nothing to remove first
			walks = append(walks, &walkUnderWay{walk: tab.StartWalk(since), since: since, want: snapshotSince(since)})
		}
		var revisions []uint64
		var lasts []time.Time
		for step := range 20_000 {
			clock.advance(time.Duration(rng.IntN(3)) * time.Millisecond)
			switch op := rng.IntN(100); {
			case op < 35:
				tab.Set(key(), step, time.Duration(rng.IntN(3))*50*time.Millisecond)
			case op < 45:
				tab.Delete(key())
			case op < 55:
				tab.Touch(key())
			case op < 60:
				k := rng.IntN(62) // SetMany's keys are distinct, as a map's
				tab.SetMany([]string{fmt.Sprint("k", k), fmt.Sprint("k", k+1), fmt.Sprint("k", k+2)}, []int{step, step, step}, 0)
			case op < 65:
				tab.Update(key(), time.Second, func(item *messages.Item[int]) (int, messages.UpdateOp) {
					if item != nil && item.Value%2 == 1 {
						return 0, messages.UpdateRemove
					}
					return step, messages.UpdateWrite
				})
			case op < 70:
				tab.Sweep(rng.IntN(4), 0)
			case op < 71:
				tab.Clear().Discard()
			case op < 72:
				all, rev, last := tab.Snapshot()
				c, err := tab.Prepare(len(all), slices.Values(all), rev, last)
				Expect(err).NotTo(HaveOccurred())
				tab.Install(c, false).Discard()
			case op < 75 && len(walks) < 4:
				begin()
				revisions = append(revisions, tab.revision)
				lasts = append(lasts, tab.last)
			case op < 90 && len(walks) > 0:
				u := walks[rng.IntN(len(walks))]
				u.read, _ = u.walk.Step(1+rng.IntN(8), u.read)
			case op < 92 && len(walks) > 0:
				i := rng.IntN(len(walks))
				walks[i].finish(tab, revisions[i], lasts[i])
				walks = slices.Delete(walks, i, i+1)
				revisions = slices.Delete(revisions, i, i+1)
				lasts = slices.Delete(lasts, i, i+1)
			}
		}
		for i, u := range walks {
			u.finish(tab, revisions[i], lasts[i])
		}
	})

	It("goes on over the former content after a Clear, which Discard then leaves alone", func() {
		for i := range 10 {
			tab.Set(fmt.Sprint(i), i, 0)
		}
		want, rev, last := tab.Snapshot()
		u := &walkUnderWay{walk: tab.StartWalk(time.Time{}), want: want}
		u.read, _ = u.walk.Step(3, u.read)
		old := tab.Clear()
		old.Discard()
		Expect(old.order.front()).NotTo(BeNil(), "Discard left the links the walk reads")
		tab.Set("0", 100, 0)
		Expect(tab.walks).To(BeEmpty(), "the walk no longer follows the table")
		u.finish(tab, rev, last)
	})
})
