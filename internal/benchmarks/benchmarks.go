// Package benchmarks holds the bodies of the benchmarks both designs run,
// so `go test -bench` in store and in mutexstore measures the same work
// under the same names, and benchstat can compare them.
package benchmarks

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/harness"
	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/store"
)

// Keys is the key space, built before any timer runs.
var Keys = func() []string {
	keys := make([]string, 1<<14)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	return keys
}()

// Opener makes the store under test.
type Opener = kv.Opener[string, int]

// Start opens and starts a store that the benchmark shuts down at its end.
func Start(b *testing.B, open Opener, cfg store.Config) kv.Store[string, int] {
	b.Helper()
	s, err := open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown() })
	return s
}

// Fill writes n items over Keys.
func Fill(b *testing.B, s kv.Store[string, int], n int) {
	b.Helper()
	for i := range n {
		if err := s.Set(Keys[i%len(Keys)], i); err != nil {
			b.Fatal(err)
		}
	}
}

// Get reads live keys one at a time.
func Get(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	Fill(b, s, len(Keys))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(Keys[i%len(Keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// GetParallel reads live keys from GOMAXPROCS goroutines.
func GetParallel(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	Fill(b, s, len(Keys))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := s.Get(Keys[i%len(Keys)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// GetTTLParallel is GetParallel over items that carry a TTL (an hour), so
// every Get must also read the clock to tell whether its item expired.
func GetTTLParallel(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	for i, k := range Keys {
		if err := s.SetWithTTL(k, i, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := s.Get(Keys[i%len(Keys)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Set writes keys one at a time.
func Set(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.Set(Keys[i%len(Keys)], i); err != nil {
			b.Fatal(err)
		}
	}
}

// SetParallel writes keys from GOMAXPROCS goroutines.
func SetParallel(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := s.Set(Keys[i%len(Keys)], i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// SetWithTTL writes keys that expire, so each write also updates the
// expiry index.
func SetWithTTL(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.SetWithTTL(Keys[i%len(Keys)], i, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// Delete deletes keys that are there: the store holds b.N keys before the
// timer starts.
func Delete(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
		if err := s.Set(keys[i], i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, key := range keys {
		if err := s.Delete(key); err != nil {
			b.Fatal(err)
		}
	}
}

// Size counts a store of 16K items.
func Size(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	Fill(b, s, len(Keys))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Size(); err != nil {
			b.Fatal(err)
		}
	}
}

// List copies a store of 1000 items.
func List(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	Fill(b, s, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.List(); err != nil {
			b.Fatal(err)
		}
	}
}

// batchKeys returns n distinct keys starting at the i-th batch.
func batchKeys(i, n int) []string {
	out := make([]string, n)
	for j := range out {
		out[j] = Keys[(i*n+j)%len(Keys)]
	}
	return out
}

// GetMany reads batches of 64 live keys.
func GetMany(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	Fill(b, s, len(Keys))
	batches := make([][]string, 64)
	for i := range batches {
		batches[i] = batchKeys(i, 64)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.GetMany(batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
}

// SetMany writes batches of 64 keys.
func SetMany(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	batches := make([]map[string]int, 64)
	for i := range batches {
		batches[i] = make(map[string]int, 64)
		for _, k := range batchKeys(i, 64) {
			batches[i][k] = i
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.SetMany(batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
}

// CompareAndSet is a read-modify-write: Get, then CompareAndSet on the
// revision read.
func CompareAndSet(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	Fill(b, s, len(Keys))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		key := Keys[i%len(Keys)]
		cur, err := s.Get(key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.CompareAndSet(key, cur.Value+1, cur.Revision); err != nil {
			b.Fatal(err)
		}
	}
}

// Stats takes snapshots of the counters.
func Stats(b *testing.B, open Opener) {
	s := Start(b, open, store.Config{})
	Fill(b, s, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Stats(); err != nil {
			b.Fatal(err)
		}
	}
}

// prefill writes n items "fill:0" … with SetMany in chunks, fast for both
// designs.
func prefill(b *testing.B, s kv.Store[string, int], n int) {
	b.Helper()
	chunk := make(map[string]int, 10_000)
	for i := range n {
		chunk["fill:"+strconv.Itoa(i)] = i
		if len(chunk) == 10_000 || i == n-1 {
			if err := s.SetMany(chunk); err != nil {
				b.Fatal(err)
			}
			clear(chunk)
		}
	}
}

// MemoryPerItem reports the heap a store of 1M items holds per item
// (metric B/item). It measures once, whatever b.N.
func MemoryPerItem(b *testing.B, open Opener) {
	const n = 1_000_000
	before := harness.LiveHeap()
	s := Start(b, open, store.Config{})
	prefill(b, s, n)
	after := harness.LiveHeap()
	if size, err := s.Size(); err != nil || size != n {
		b.Fatalf("size %d, %v; want %d", size, err, n)
	}
	b.ReportMetric(float64(after-before)/n, "B/item")
}

// GetDuringSweep times every Get of a live key while 1M expired items are
// swept away, until the sweep is done, and reports the mean (as ns/op), the
// 99th and 99.9th percentiles and the worst (p99-ns, p99.9-ns, max-ns): how long a sweep can hold
// a reader up. It measures one sweep, whatever b.N.
func GetDuringSweep(b *testing.B, open Opener) {
	const n = 1_000_000
	ttl := 3 * time.Second
	s := Start(b, open, store.Config{TTL: ttl, CleanupInterval: time.Millisecond})
	for i := range 1000 {
		if err := s.SetWithTTL(Keys[i], i, 0); err != nil { // the live keys
			b.Fatal(err)
		}
	}
	start := time.Now()
	prefill(b, s, n)
	if time.Since(start) > ttl*3/4 {
		b.Skipf("prefill took %v, too close to the %v TTL", time.Since(start), ttl)
	}
	// Wait out the TTL: this waits for the clock, not for an event.
	<-time.After(time.Until(start.Add(ttl)))

	lat := make([]time.Duration, 0, 1<<20)
	b.ResetTimer()
	for i := 0; ; i++ {
		if i%4096 == 0 {
			if st, err := s.Stats(); err != nil || st.Expirations >= n {
				break
			}
		}
		t0 := time.Now()
		if _, err := s.Get(Keys[i%1000]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	var total time.Duration
	for _, d := range lat {
		total += d
	}
	slices.Sort(lat)
	b.ReportMetric(float64(total)/float64(len(lat)), "ns/op")
	b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
	b.ReportMetric(float64(lat[len(lat)*999/1000]), "p99.9-ns")
	b.ReportMetric(float64(lat[len(lat)-1]), "max-ns")
	b.ReportMetric(float64(len(lat)), "gets")
}
