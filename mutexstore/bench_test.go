package mutexstore_test

import (
	"testing"

	"github.com/lastmodstore/lastmodstore/internal/benchmarks"
	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// open makes the mutex design's store for the shared benchmarks, which
// store runs under the same names.
func open(cfg store.Config, opts ...store.Option[string, int]) (kv.Store[string, int], error) {
	return mutexstore.New(cfg, opts...)
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

func BenchmarkGetOrLoadHit(b *testing.B)     { benchmarks.GetOrLoadHit(b, open) }
func BenchmarkGetOrLoadMiss1(b *testing.B)   { benchmarks.GetOrLoadMiss(b, open, 1) }
func BenchmarkGetOrLoadMiss100(b *testing.B) { benchmarks.GetOrLoadMiss(b, open, 100) }
func BenchmarkTouch(b *testing.B)            { benchmarks.Touch(b, open) }
