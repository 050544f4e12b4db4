package main

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
	"github.com/maypok86/otter/v2"
	gocache "github.com/patrickmn/go-cache"
)

// BenchmarkMemory holds n items ("fill:i" → i, nothing expiring) in each
// design and reports the heap they take per item (B/item) and how long a
// full garbage collection takes while they are alive (gc-ms, the median of
// three runtime.GC calls, each a whole cycle: marking every live pointer,
// then sweeping). That is what a store's layout costs a program beyond
// its own data, at every cycle the program's allocations start.
//
// n is 1M, or PEERS_MEMORY_ITEMS (10M items take about 2 GB per design).
// The keys are built first and shared by every design, so B/item leaves
// their bytes out. It measures once per design, whatever b.N.
func BenchmarkMemory(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("PEERS_MEMORY_ITEMS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("PEERS_MEMORY_ITEMS=%q: want a positive count", s)
		}
		n = v
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "fill:" + strconv.Itoa(i)
	}
	for _, d := range memoryDesigns {
		b.Run(d.name+"/"+strconv.Itoa(n), func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			held, closeFn := d.fill(b, keys)
			runtime.GC()
			runtime.ReadMemStats(&after)
			gcs := make([]time.Duration, 3)
			for i := range gcs {
				t0 := time.Now()
				runtime.GC()
				gcs[i] = time.Since(t0)
			}
			slices.Sort(gcs)
			runtime.KeepAlive(held)
			closeFn()
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "B/item")
			b.ReportMetric(float64(gcs[1])/1e6, "gc-ms")
		})
	}
}

// bareItem is what a program that tracks modification itself would keep
// per key, in a map[string]*bareItem: the floor the designs are set against.
type bareItem struct {
	value        int
	lastModified time.Time
	revision     uint64
}

// memoryDesigns fill a structure of their own with keys and return it, and
// what stops it.
var memoryDesigns = []struct {
	name string
	fill func(b *testing.B, keys []string) (held any, close func())
}{
	{"map", func(b *testing.B, keys []string) (any, func()) {
		m := make(map[string]*bareItem)
		for i, k := range keys {
			m[k] = &bareItem{value: i, lastModified: time.Now(), revision: uint64(i + 1)}
		}
		return m, func() {}
	}},
	{"actor", fillStore(func() (kv.Store[string, int], error) { return store.New[string, int](store.Config{}) })},
	{"actor-lockfree", fillStore(func() (kv.Store[string, int], error) {
		return store.New[string, int](store.Config{LockFreeReads: true})
	})},
	{"mutex", fillStore(func() (kv.Store[string, int], error) { return mutexstore.New[string, int](store.Config{}) })},
	{"otter", func(b *testing.B, keys []string) (any, func()) {
		c, err := otter.New(&otter.Options[string, int]{})
		if err != nil {
			b.Fatal(err)
		}
		for i, k := range keys {
			c.Set(k, i)
		}
		return c, func() { c.StopAllGoroutines() }
	}},
	{"go-cache", func(b *testing.B, keys []string) (any, func()) {
		c := gocache.New(gocache.NoExpiration, 0)
		for i, k := range keys {
			c.Set(k, i, gocache.NoExpiration)
		}
		return c, func() {}
	}},
}

// fillStore returns the fill of a lastmodstore design that open makes:
// started, filled in batches of 10,000, shut down by the close returned.
func fillStore(open func() (kv.Store[string, int], error)) func(b *testing.B, keys []string) (any, func()) {
	return func(b *testing.B, keys []string) (any, func()) {
		s, err := open()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		batch := make(map[string]int, 10_000)
		for i, k := range keys {
			batch[k] = i
			if len(batch) == 10_000 || i == len(keys)-1 {
				if err := s.SetMany(batch); err != nil {
					b.Fatal(err)
				}
				clear(batch)
			}
		}
		return s, func() {
			if err := s.Shutdown(); err != nil {
				b.Error(err)
			}
		}
	}
}
