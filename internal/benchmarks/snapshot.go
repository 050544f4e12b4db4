package benchmarks

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/lastmodstore/lastmodstore/internal/harness"
	"github.com/lastmodstore/lastmodstore/internal/kv"
	"github.com/lastmodstore/lastmodstore/store"
)

// SnapshotItems is the size of the store the snapshot benchmarks save and
// load: 1M, or SNAPSHOT_ITEMS (10000000 for the ten-million figures of
// README.md, a few GiB and minutes).
var SnapshotItems = func() int {
	if n, err := strconv.Atoi(os.Getenv("SNAPSHOT_ITEMS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}()

// startSnapshots is Start for a store with Snapshots.
func startSnapshots(b *testing.B, open Opener) kv.SnapshotStore[string, int] {
	b.Helper()
	s, ok := Start(b, open, store.Config{}).(kv.SnapshotStore[string, int])
	if !ok {
		b.Skip("the store has no Save and Load")
	}
	return s
}

// snapshotOf returns a started store of SnapshotItems items and its
// snapshot.
func snapshotOf(b *testing.B, open Opener) (kv.SnapshotStore[string, int], []byte) {
	b.Helper()
	s := startSnapshots(b, open)
	prefill(b, s, SnapshotItems)
	var buf bytes.Buffer
	if err := s.Save(&buf); err != nil {
		b.Fatal(err)
	}
	return s, buf.Bytes()
}

// reportItems adds the items/s metric; b.SetBytes gives MB/s.
func reportItems(b *testing.B) {
	b.ReportMetric(float64(SnapshotItems)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// Save saves a store of 1M items (string keys, int values, gob) to memory.
func Save(b *testing.B, open Opener) {
	s, snap := snapshotOf(b, open)
	buf := bytes.NewBuffer(make([]byte, 0, len(snap)))
	b.SetBytes(int64(len(snap)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := s.Save(buf); err != nil {
			b.Fatal(err)
		}
	}
	reportItems(b)
}

// Load loads a snapshot of 1M items from memory into a store holding 1M
// other items, which it replaces.
func Load(b *testing.B, open Opener) {
	_, snap := snapshotOf(b, open)
	into := startSnapshots(b, open)
	prefill(b, into, SnapshotItems)
	b.SetBytes(int64(len(snap)))
	b.ReportAllocs()
	for b.Loop() {
		if err := into.Load(bytes.NewReader(snap)); err != nil {
			b.Fatal(err)
		}
	}
	reportItems(b)
}

// GetDuringSave times every Get of a live key while a store of 1M items
// saves itself (to io.Discard) on another goroutine, one Save per
// iteration, and reports the mean (as ns/op), the 99.9th percentile
// (within 1/32) and the worst (p99.9-ns, max-ns): how long the step that
// takes the snapshot holds a reader up.
func GetDuringSave(b *testing.B, open Opener) {
	s, _ := snapshotOf(b, open)
	getDuring(b, s, func() error { return s.Save(io.Discard) })
}

// GetDuringList is GetDuringSave for a List of 1M items.
func GetDuringList(b *testing.B, open Opener) {
	s, _ := snapshotOf(b, open)
	getDuring(b, s, func() error { _, err := s.List(); return err })
}

// GetDuringLoad is GetDuringSave for a Load of 1M items.
func GetDuringLoad(b *testing.B, open Opener) {
	s, snap := snapshotOf(b, open)
	getDuring(b, s, func() error { return s.Load(bytes.NewReader(snap)) })
}

// fillKeys are keys prefill writes.
var fillKeys = func() []string {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "fill:" + strconv.Itoa(i)
	}
	return keys
}()

// getDuring times every Get of a fillKeys key that begins while work
// runs, once per iteration, on a probe's goroutine.
func getDuring(b *testing.B, s kv.Store[string, int], work func() error) {
	p := harness.StartProbe(func(i int) error {
		_, err := s.Get(fillKeys[i%len(fillKeys)])
		return err
	})
	defer func() { _ = p.Stop() }() // after a Fatal
	var lat harness.Latencies
	for b.Loop() {
		p.Begin()
		err := work()
		lat.Merge(p.End())
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := p.Stop(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(lat.Mean()), "ns/op")
	b.ReportMetric(float64(lat.Percentile(0.999)), "p99.9-ns")
	b.ReportMetric(float64(lat.Worst()), "max-ns")
	b.ReportMetric(float64(lat.Count())/float64(b.N), "gets/op")
}
