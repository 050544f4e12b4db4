package etcdstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/lastmodstore/lastmodstore/etcdstore"
)

// The benchmarks run against an embedded three-member cluster on this
// machine (loopback, no fsync): they measure the store's own cost plus a
// Raft round trip at its cheapest, a floor for a real cluster, whose
// network and disks add to every write.
//
//	go test -run '^$' -bench . -count 6

var benchPrefixes atomic.Int64

// benchStore returns a started store under a new prefix of the shared
// three-member cluster; it is stopped when b ends.
func benchStore(b *testing.B) *etcdstore.Store[int] {
	b.Helper()
	cli, err := trioClient()
	if err != nil {
		b.Fatal(err)
	}
	s, err := etcdstore.New[int](cli, etcdstore.Config{Prefix: fmt.Sprintf("bench/%d/", benchPrefixes.Add(1))})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = s.Clear()
		_ = s.Shutdown()
		_ = cli.Close()
	})
	return s
}

// serialAndParallel runs op one call at a time (latency), then from 16
// goroutines per P (throughput: calls to a cluster wait on the network,
// not the CPU).
func serialAndParallel(b *testing.B, s *etcdstore.Store[int], op func(i int) error) {
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := op(i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var n atomic.Int64
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(int(n.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkGet(b *testing.B) {
	s := benchStore(b)
	if err := s.Set("k", 1); err != nil {
		b.Fatal(err)
	}
	serialAndParallel(b, s, func(int) error {
		_, err := s.Get("k")
		return err
	})
}

func BenchmarkSet(b *testing.B) {
	s := benchStore(b)
	serialAndParallel(b, s, func(i int) error {
		return s.Set(fmt.Sprintf("k%d", i%1024), i)
	})
}

// BenchmarkCompareAndSet increments a counter of its own per goroutine,
// so that every CompareAndSet wins: the cost of the transaction, not of
// conflicts.
func BenchmarkCompareAndSet(b *testing.B) {
	s := benchStore(b)
	var keys atomic.Int64
	increment := func(key string, last *uint64, i int) error {
		item, err := s.CompareAndSet(key, i, *last)
		if err == nil {
			*last = item.Revision
		}
		return err
	}
	b.Run("serial", func(b *testing.B) {
		key, last := fmt.Sprintf("c%d", keys.Add(1)), uint64(0)
		for i := 0; b.Loop(); i++ {
			if err := increment(key, &last, i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			key, last := fmt.Sprintf("c%d", keys.Add(1)), uint64(0)
			for i := 0; pb.Next(); i++ {
				if err := increment(key, &last, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkGetMany64(b *testing.B) {
	s := benchStore(b)
	items := make(map[string]int, 64)
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
		items[keys[i]] = i
	}
	if err := s.SetMany(items); err != nil {
		b.Fatal(err)
	}
	serialAndParallel(b, s, func(int) error {
		m, err := s.GetMany(keys)
		if err == nil && len(m) != len(keys) {
			err = fmt.Errorf("GetMany found %d of %d", len(m), len(keys))
		}
		return err
	})
}
