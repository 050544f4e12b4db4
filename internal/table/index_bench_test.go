package table

import (
	"hash/maphash"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// benchKeys returns n keys shaped like the store benchmarks' ("key:123"),
// and as many keys that are never put, for misses.
func benchKeys(n int) (present, absent []string) {
	present, absent = make([]string, n), make([]string, n)
	for i := range n {
		present[i] = "key:" + strconv.Itoa(i)
		absent[i] = "nokey:" + strconv.Itoa(i)
	}
	return present, absent
}

// benchIndex returns an index holding keys.
func benchIndex(keys []string) *readIndex[string, uint64] {
	ix := newReadIndex[string, uint64]()
	for i, k := range keys {
		ix.put(newIndexEntry(k, uint64(i+1)))
	}
	return ix
}

var sizes = []struct {
	name string
	n    int
}{{"1e4", 10_000}, {"1e6", 1_000_000}}

// BenchmarkIndexGet reads from GOMAXPROCS goroutines at once, as the
// store's readers will. Each goroutine starts at its own place in the keys
// so they do not walk the same slots in step.
func BenchmarkIndexGet(b *testing.B) {
	for _, size := range sizes {
		present, absent := benchKeys(size.n)
		ix := benchIndex(present)
		for _, tt := range []struct {
			name string
			keys []string
			hit  bool
		}{{"hit", present, true}, {"miss", absent, false}} {
			b.Run(tt.name+"/"+size.name, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := int(uint(cheapRand()) % uint(len(tt.keys)))
					for pb.Next() {
						if (ix.get(tt.keys[i]) != nil) != tt.hit {
							b.Error("wrong answer")
							return
						}
						if i++; i == len(tt.keys) {
							i = 0
						}
					}
				})
			})
		}
	}
}

// cheapRand spreads the goroutines' starting points.
func cheapRand() uint64 { return maphash.Comparable(maphash.MakeSeed(), 0) }

// BenchmarkIndexPut times the writer: replacing the entry of a present key,
// and inserting new keys (growing the table as it goes, so the rebuilds
// are in the average).
func BenchmarkIndexPut(b *testing.B) {
	for _, size := range sizes {
		present, _ := benchKeys(size.n)
		b.Run("update/"+size.name, func(b *testing.B) {
			ix := benchIndex(present)
			entries := make([]*entry[string, uint64], len(present))
			for i, k := range present {
				entries[i] = newIndexEntry(k, uint64(i+1))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				ix.put(entries[i%len(entries)])
			}
		})
	}
	b.Run("insert", func(b *testing.B) {
		keys, _ := benchKeys(b.N)
		entries := make([]*entry[string, uint64], len(keys))
		for i, k := range keys {
			entries[i] = newIndexEntry(k, uint64(i+1))
		}
		ix := newReadIndex[string, uint64]()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			ix.put(entries[i])
		}
	})
	b.Run("delete+insert/1e4", func(b *testing.B) {
		// Steady churn at 10^4 keys: every key new, so tombstones pile
		// up and rebuilds drop them.
		keys, _ := benchKeys(10_000 + b.N)
		entries := make([]*entry[string, uint64], len(keys))
		for i, k := range keys {
			entries[i] = newIndexEntry(k, uint64(i+1))
		}
		ix := newReadIndex[string, uint64]()
		for _, e := range entries[:10_000] {
			ix.put(e)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			ix.del(keys[i])
			ix.put(entries[10_000+i])
		}
	})
}

// BenchmarkIndexGrow times the one rebuild that doubles a full index of
// about 573k keys from 2^17 to 2^18 groups: the longest pause the writer
// takes at up to 1M keys.
func BenchmarkIndexGrow(b *testing.B) {
	const n = maxUsedNum * groupSlots << 17 / maxUsedDen // the most 2^17 groups hold: the next new key grows the table
	keys, _ := benchKeys(n + 1)
	ix := benchIndex(keys[:n])
	b.ReportAllocs()
	for b.Loop() {
		ix.rebuild(n + 1)
	}
}

// BenchmarkIndexFill puts 1M new keys (INDEX_ITEMS for more) into an
// empty index, growing it as it goes, and reports the mean put (ns/op)
// and the slowest one (max-put-ns): the longest a writer pauses for the
// index, which the rebuilds spread over the writes keep to microseconds.
func BenchmarkIndexFill(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("INDEX_ITEMS")); err == nil && v > 0 {
		n = v
	}
	keys, _ := benchKeys(n)
	entries := make([]*entry[string, uint64], n)
	for i, k := range keys {
		entries[i] = newIndexEntry(k, uint64(i+1))
	}
	var worst time.Duration
	b.ResetTimer()
	for b.Loop() {
		ix := newReadIndex[string, uint64]()
		for _, e := range entries {
			t0 := time.Now()
			ix.put(e)
			worst = max(worst, time.Since(t0))
		}
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N*n), "ns/op")
	b.ReportMetric(float64(worst), "max-put-ns")
}

// BenchmarkIndexMemory reports the heap the index itself holds per key at
// 1M keys (metric B/item): the slots, nothing per entry. It measures once,
// whatever b.N.
func BenchmarkIndexMemory(b *testing.B) {
	const n = 1_000_000
	keys, _ := benchKeys(n)
	entries := make([]*entry[string, uint64], n)
	for i, k := range keys {
		entries[i] = newIndexEntry(k, uint64(i+1))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := newReadIndex[string, uint64]()
	for _, e := range entries {
		ix.put(e)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for b.Loop() {
	}
	runtime.KeepAlive(ix)
	runtime.KeepAlive(entries) // else the slice's 8 B/item is freed in between
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/item")
}

// BenchmarkHash compares the index's hash of string keys,
// maphash.Comparable, with maphash.String behind a type test, a fast path
// the index does not take: the two are within noise of each other.
func BenchmarkHash(b *testing.B) {
	keys, _ := benchKeys(1024)
	ix := newReadIndex[string, uint64]()
	b.Run("Comparable", func(b *testing.B) {
		var sum uint64
		for i := 0; b.Loop(); i++ {
			sum += ix.hash(keys[i&1023])
		}
		runtime.KeepAlive(sum)
	})
	b.Run("String", func(b *testing.B) {
		var sum uint64
		for i := 0; b.Loop(); i++ {
			sum += stringHash(ix.seed, keys[i&1023])
		}
		runtime.KeepAlive(sum)
	})
}

// stringHash is the fast path the index could take for string keys.
func stringHash[K comparable](seed maphash.Seed, key K) uint64 {
	if s, ok := any(key).(string); ok {
		return maphash.String(seed, s)
	}
	return maphash.Comparable(seed, key)
}
