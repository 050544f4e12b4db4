package benchmarks

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/lastmodstore/lastmodstore/store"
)

// UpdateKeys are the key counts the read-modify-write benchmarks run on: a
// few hot keys, where increments contend, and many, where they rarely do.
var UpdateKeys = []int{4, 4096}

// UpdateParallelism are the b.SetParallelism values they run with:
// GOMAXPROCS goroutines, and 128 times as many, where a Get followed by a
// CompareAndSet is most often overtaken.
var UpdateParallelism = []int{1, 128}

// rmwCases runs body once per key count and parallelism.
func rmwCases(b *testing.B, body func(b *testing.B, keys int)) {
	for _, n := range UpdateKeys {
		for _, p := range UpdateParallelism {
			b.Run("keys="+strconv.Itoa(n)+"/goroutines="+strconv.Itoa(p*runtime.GOMAXPROCS(0)), func(b *testing.B) {
				b.SetParallelism(p)
				body(b, n)
			})
		}
	}
}

// increment is the read-modify-write the benchmarks run.
func increment(item *store.Item[int]) (int, store.Op) {
	if item == nil {
		return 1, store.Write
	}
	return item.Value + 1, store.Write
}

// Update increments keys with Update from GOMAXPROCS goroutines, each
// drawing keys at random, on each key count of UpdateKeys; at the end the
// sum of the keys' values must be the number of increments.
func Update(b *testing.B, open Opener) {
	rmwCases(b, func(b *testing.B, n int) {
		rmw(b, open, n, func(s Store, key string) error {
			_, err := s.Update(key, increment)
			return err
		})
	})
}

// IncrementCAS is Update's work done the way a store without Update must:
// Get, then CompareAndSet on the revision read, again on a conflict.
func IncrementCAS(b *testing.B, open Opener) {
	rmwCases(b, func(b *testing.B, n int) {
		rmw(b, open, n, func(s Store, key string) error {
			for {
				var rev uint64
				value := 1
				cur, err := s.Get(key)
				switch {
				case err == nil:
					rev, value = cur.Revision, cur.Value+1
				case !errors.Is(err, store.ErrNotFound):
					return err
				}
				if _, err = s.CompareAndSet(key, value, rev); !errors.Is(err, store.ErrConflict) {
					return err
				}
			}
		})
	})
}

// Store is the store the benchmarks run against.
type Store = interface {
	Get(key string) (*store.Item[int], error)
	CompareAndSet(key string, value int, revision uint64) (*store.Item[int], error)
	Update(key string, f func(*store.Item[int]) (int, store.Op)) (*store.Item[int], error)
}

// rmw runs inc, one increment of a key, from GOMAXPROCS goroutines over
// the first n of Keys, and checks that none was lost.
func rmw(b *testing.B, open Opener, n int, inc func(s Store, key string) error) {
	s := Start(b, open, store.Config{})
	var ops atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		done := int64(0)
		for pb.Next() {
			if err := inc(s, Keys[rng.IntN(n)]); err != nil {
				b.Error(err)
				return
			}
			done++
		}
		ops.Add(done)
	})
	b.StopTimer()
	total := 0
	for _, key := range Keys[:n] {
		if item, err := s.Get(key); err == nil {
			total += item.Value
		}
	}
	if int64(total) != ops.Load() {
		b.Fatalf("the keys sum to %d after %d increments", total, ops.Load())
	}
}
