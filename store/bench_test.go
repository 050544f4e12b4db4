package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// benchKeys is the key space the benchmarks use, built before any timer runs.
var benchKeys = func() []string {
	keys := make([]string, 1<<14)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	return keys
}()

func startStore(b *testing.B, cfg store.Config) *store.Store[string, int] {
	b.Helper()
	s, err := store.New[string, int](cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown() })
	return s
}

func fill(b *testing.B, s *store.Store[string, int], n int) {
	b.Helper()
	for i := range n {
		if err := s.Set(benchKeys[i%len(benchKeys)], i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, len(benchKeys))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(benchKeys[i%len(benchKeys)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, len(benchKeys))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := s.Get(benchKeys[i%len(benchKeys)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSet(b *testing.B) {
	s := startStore(b, store.Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.Set(benchKeys[i%len(benchKeys)], i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetParallel(b *testing.B) {
	s := startStore(b, store.Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := s.Set(benchKeys[i%len(benchKeys)], i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSetWithTTL(b *testing.B) {
	s := startStore(b, store.Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.SetWithTTL(benchKeys[i%len(benchKeys)], i, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDelete deletes keys that are there: it fills the store with
// b.N keys before the timer starts.
func BenchmarkDelete(b *testing.B) {
	s := startStore(b, store.Config{})
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
		_ = s.Set(keys[i], i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, key := range keys {
		if err := s.Delete(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSize(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, len(benchKeys))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Size(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkList(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.List(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChannelFloor is the limit of the design: a bare actor that
// answers each request on a pooled reply channel and does nothing else.
// BenchmarkGet is this plus the store's own work.
func BenchmarkChannelFloor(b *testing.B) {
	type request struct {
		key   string
		reply chan int
	}
	mailbox := make(chan request, 512)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for req := range mailbox {
			req.reply <- len(req.key)
		}
	}()
	reply := make(chan int, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		mailbox <- request{key: benchKeys[i%len(benchKeys)], reply: reply}
		<-reply
	}
	b.StopTimer()
	close(mailbox)
	<-done
}

// batchKeys returns n distinct keys starting at the i-th.
func batchKeys(i, n int) []string {
	out := make([]string, n)
	for j := range out {
		out[j] = benchKeys[(i*n+j)%len(benchKeys)]
	}
	return out
}

func BenchmarkGetMany64(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, len(benchKeys))
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

func BenchmarkSetMany64(b *testing.B) {
	s := startStore(b, store.Config{})
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

// BenchmarkCompareAndSet is a read-modify-write: Get, then CompareAndSet
// on the revision read.
func BenchmarkCompareAndSet(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, len(benchKeys))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		key := benchKeys[i%len(benchKeys)]
		cur, err := s.Get(key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.CompareAndSet(key, cur.Value+1, cur.Revision); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkModifiedSince asks for the last 10 writes of stores of 1K and
// 1M items: the answer is the same size, the store is not, and the cost
// follows the answer.
func BenchmarkModifiedSince(b *testing.B) {
	for _, size := range []int{1_000, 1_000_000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			s := startStore(b, store.Config{})
			chunk := make(map[string]int, 10_000)
			for i := range size {
				chunk["key:"+strconv.Itoa(i)] = i
				if len(chunk) == 10_000 || i == size-1 {
					if err := s.SetMany(chunk); err != nil {
						b.Fatal(err)
					}
					clear(chunk)
				}
			}
			// All runs oldest first: the 11th newest item's LastModified
			// has exactly 10 items newer than it.
			var last [11]time.Time
			n := 0
			for _, item := range s.All() {
				last[n%len(last)] = item.LastModified
				n++
			}
			since := last[n%len(last)]
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				got, err := s.ModifiedSince(since)
				if err != nil || len(got) != 10 {
					b.Fatalf("got %d items, %v; want 10", len(got), err)
				}
			}
		})
	}
}

func BenchmarkStats(b *testing.B) {
	s := startStore(b, store.Config{})
	fill(b, s, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Stats(); err != nil {
			b.Fatal(err)
		}
	}
}
