package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/benchmarks"
	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/store"
)

// open makes the actor design's store for the shared benchmarks, which
// mutexstore runs under the same names.
func open(cfg store.Config, opts ...store.Option[string, int]) (kv.Store[string, int], error) {
	return store.New(cfg, opts...)
}

// openLockFree makes the actor design's store with Config.LockFreeReads.
func openLockFree(cfg store.Config, opts ...store.Option[string, int]) (kv.Store[string, int], error) {
	cfg.LockFreeReads = true
	return store.New(cfg, opts...)
}

func BenchmarkGet(b *testing.B)            { benchmarks.Get(b, open) }
func BenchmarkGetParallel(b *testing.B)    { benchmarks.GetParallel(b, open) }
func BenchmarkGetTTLParallel(b *testing.B) { benchmarks.GetTTLParallel(b, open) }
func BenchmarkSet(b *testing.B)            { benchmarks.Set(b, open) }
func BenchmarkSetParallel(b *testing.B)    { benchmarks.SetParallel(b, open) }
func BenchmarkSetWithTTL(b *testing.B)     { benchmarks.SetWithTTL(b, open) }
func BenchmarkDelete(b *testing.B)         { benchmarks.Delete(b, open) }
func BenchmarkSize(b *testing.B)           { benchmarks.Size(b, open) }
func BenchmarkList(b *testing.B)           { benchmarks.List(b, open) }
func BenchmarkGetMany64(b *testing.B)      { benchmarks.GetMany(b, open) }
func BenchmarkSetMany64(b *testing.B)      { benchmarks.SetMany(b, open) }
func BenchmarkCompareAndSet(b *testing.B)  { benchmarks.CompareAndSet(b, open) }

// BenchmarkUpdate increments keys with Update from GOMAXPROCS goroutines;
// BenchmarkIncrementCAS does the same with Get and CompareAndSet, trying
// again on a conflict, for comparison.
func BenchmarkUpdate(b *testing.B)         { benchmarks.Update(b, open) }
func BenchmarkIncrementCAS(b *testing.B)   { benchmarks.IncrementCAS(b, open) }
func BenchmarkStats(b *testing.B)          { benchmarks.Stats(b, open) }
func BenchmarkMemoryPerItem(b *testing.B)  { benchmarks.MemoryPerItem(b, open) }
func BenchmarkGetDuringSweep(b *testing.B) { benchmarks.GetDuringSweep(b, open) }
func BenchmarkGetDuringClear(b *testing.B) { benchmarks.GetDuringClear(b, open) }

// The same work with Config.LockFreeReads: Get reads the owner's index.
func BenchmarkLockFreeGet(b *testing.B)            { benchmarks.Get(b, openLockFree) }
func BenchmarkLockFreeGetParallel(b *testing.B)    { benchmarks.GetParallel(b, openLockFree) }
func BenchmarkLockFreeGetTTLParallel(b *testing.B) { benchmarks.GetTTLParallel(b, openLockFree) }
func BenchmarkLockFreeSet(b *testing.B)            { benchmarks.Set(b, openLockFree) }
func BenchmarkLockFreeSetParallel(b *testing.B)    { benchmarks.SetParallel(b, openLockFree) }
func BenchmarkLockFreeMemoryPerItem(b *testing.B)  { benchmarks.MemoryPerItem(b, openLockFree) }

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
		mailbox <- request{key: benchmarks.Keys[i%len(benchmarks.Keys)], reply: reply}
		<-reply
	}
	b.StopTimer()
	close(mailbox)
	<-done
}

// BenchmarkModifiedSince asks for the last 10 writes of stores of 1K and
// 1M items: the answer is the same size, the store is not, and the cost
// follows the answer.
func BenchmarkModifiedSince(b *testing.B) {
	for _, size := range []int{1_000, 1_000_000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			s, err := store.New[string, int](store.Config{})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Shutdown() })
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

func BenchmarkGetOrLoadHit(b *testing.B)         { benchmarks.GetOrLoadHit(b, open) }
func BenchmarkGetOrLoadMiss1(b *testing.B)       { benchmarks.GetOrLoadMiss(b, open, 1) }
func BenchmarkGetOrLoadMiss100(b *testing.B)     { benchmarks.GetOrLoadMiss(b, open, 100) }
func BenchmarkTouch(b *testing.B)                { benchmarks.Touch(b, open) }
func BenchmarkLockFreeGetOrLoadHit(b *testing.B) { benchmarks.GetOrLoadHit(b, openLockFree) }

// BenchmarkWatchFrom replays the whole default history, 4096 changes, to
// a new watcher: WatchFrom returns once they are all in its channel.
// BenchmarkGetDuringWatchFrom is a Get while such replays run without
// end: one replay step is what it may wait behind.
func BenchmarkWatchFrom(b *testing.B) {
	s := startedForBench(b)
	benchmarks.Fill(b, s, 4096)
	b.ReportAllocs()
	for b.Loop() {
		replay(b, s)
	}
	b.ReportMetric(float64(b.N)*4096/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkGetDuringWatchFrom(b *testing.B) {
	s := startedForBench(b)
	benchmarks.Fill(b, s, 4096)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				replay(b, s)
			}
		}
	}()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(benchmarks.Keys[i%4096]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
}

func startedForBench(b *testing.B) *store.Store[string, int] {
	s, err := store.New[string, int](store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown() })
	return s
}

// replay replays every change to a watch it then ends.
func replay(b *testing.B, s *store.Store[string, int]) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := s.WatchFrom(ctx, 0)
	if err != nil || len(events) != 4096 {
		b.Errorf("WatchFrom: %d events, %v; want 4096", len(events), err)
	}
}
