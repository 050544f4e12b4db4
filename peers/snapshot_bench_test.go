package main

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/lastmodstore/lastmodstore/internal/benchmarks"
	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
	gocache "github.com/patrickmn/go-cache"
)

// Save and Load of benchmarks.SnapshotItems items: lastmodstore's designs
// run the bodies go test -bench runs in store and mutexstore, go-cache
// the same shape of content ("fill:i" → i, nothing expiring, gob) through
// its own Save and Load, so one run gives the ratios. MB/s is of each
// design's own snapshot, whose size differs (go-cache records no
// LastModified or Revision); items/s compares them.

func openActor(cfg store.Config, opts ...store.Option[string, int]) (kv.Store[string, int], error) {
	return store.New(cfg, opts...)
}

func openMutex(cfg store.Config, opts ...store.Option[string, int]) (kv.Store[string, int], error) {
	return mutexstore.New(cfg, opts...)
}

func BenchmarkActorSave(b *testing.B) { benchmarks.Save(b, openActor) }
func BenchmarkActorLoad(b *testing.B) { benchmarks.Load(b, openActor) }
func BenchmarkMutexSave(b *testing.B) { benchmarks.Save(b, openMutex) }
func BenchmarkMutexLoad(b *testing.B) { benchmarks.Load(b, openMutex) }

// goCacheSnapshot returns a go-cache of benchmarks.SnapshotItems items and
// what its Save writes.
func goCacheSnapshot(b *testing.B) (*gocache.Cache, []byte) {
	b.Helper()
	c := gocache.New(gocache.NoExpiration, 0)
	for i := range benchmarks.SnapshotItems {
		c.Set("fill:"+strconv.Itoa(i), i, gocache.NoExpiration)
	}
	var buf bytes.Buffer
	if err := c.Save(&buf); err != nil {
		b.Fatal(err)
	}
	return c, buf.Bytes()
}

// reportItems is benchmarks' items/s metric.
func reportItems(b *testing.B) {
	b.ReportMetric(float64(benchmarks.SnapshotItems)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkGoCacheSave is benchmarks.Save for go-cache.
func BenchmarkGoCacheSave(b *testing.B) {
	c, snap := goCacheSnapshot(b)
	buf := bytes.NewBuffer(make([]byte, 0, len(snap)))
	b.SetBytes(int64(len(snap)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := c.Save(buf); err != nil {
			b.Fatal(err)
		}
	}
	reportItems(b)
}

// BenchmarkGoCacheLoad loads into an empty cache each time: go-cache's
// Load only adds the keys a cache does not hold, so loading into a full
// one would skip every item, and into one of other keys would leave it
// twice the size, where lastmodstore's Load replaces the whole content.
func BenchmarkGoCacheLoad(b *testing.B) {
	_, snap := goCacheSnapshot(b)
	b.SetBytes(int64(len(snap)))
	b.ReportAllocs()
	var into *gocache.Cache
	for b.Loop() {
		into = gocache.New(gocache.NoExpiration, 0)
		if err := into.Load(bytes.NewReader(snap)); err != nil {
			b.Fatal(err)
		}
	}
	reportItems(b)
	if n := into.ItemCount(); n != benchmarks.SnapshotItems {
		b.Fatalf("loaded %d items, want %d", n, benchmarks.SnapshotItems)
	}
}
