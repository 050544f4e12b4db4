package snapshot

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"testing"

	"github.com/lastmodstore/lastmodstore/messages"
)

// benchItems is the size of a benchmarked snapshot: the 1M items of the
// store's own Save/Load target.
const benchItems = 1_000_000

// user is a small struct value.
type user struct {
	ID   int
	Name string
}

func benchKey(i int) string { return fmt.Sprintf("key-%07d", i) }

// benchCase runs fn for a string→int and a string→user snapshot of
// benchItems items, encoded with each codec.
func benchCases(b *testing.B, fn func(b *testing.B, c Codec, ints []messages.Entry[string, int], users []messages.Entry[string, user])) {
	ints := entries(benchItems, benchKey, func(i int) int { return i * 7 })
	users := entries(benchItems, benchKey, func(i int) user { return user{ID: i, Name: "user"} })
	for _, c := range []Codec{Gob{}, JSON{}} {
		b.Run(c.Name()+"/value=int", func(b *testing.B) { fn(b, c, ints, nil) })
		b.Run(c.Name()+"/value=struct", func(b *testing.B) { fn(b, c, nil, users) })
	}
}

// report adds the items/s metric; b.SetBytes gives MB/s.
func report(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkEncode(b *testing.B) {
	benchCases(b, func(b *testing.B, c Codec, ints []messages.Entry[string, int], users []messages.Entry[string, user]) {
		if ints != nil {
			benchEncode(b, c, ints)
		} else {
			benchEncode(b, c, users)
		}
	})
}

func benchEncode[V any](b *testing.B, c Codec, es []messages.Entry[string, V]) {
	var buf bytes.Buffer
	rev, lm := last(es)
	if err := Encode(&buf, c, rev, lm, es); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, c, rev, lm, es); err != nil {
			b.Fatal(err)
		}
	}
	report(b, len(es))
}

func BenchmarkDecode(b *testing.B) {
	benchCases(b, func(b *testing.B, c Codec, ints []messages.Entry[string, int], users []messages.Entry[string, user]) {
		if ints != nil {
			benchDecode(b, c, ints)
		} else {
			benchDecode(b, c, users)
		}
	})
}

func benchDecode[V any](b *testing.B, c Codec, es []messages.Entry[string, V]) {
	snap := encode(c, es)
	b.SetBytes(int64(len(snap)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode[string, V](bytes.NewReader(snap), c); err != nil {
			b.Fatal(err)
		}
	}
	report(b, len(es))
}

// BenchmarkGobPerItem measures the design the block format replaced: one
// gob stream for the whole snapshot, with an Encode or Decode call per key
// and per value. It encodes only the keys and values, not the metadata, so
// it flatters the alternative.
func BenchmarkGobPerItem(b *testing.B) {
	es := entries(benchItems, benchKey, func(i int) int { return i * 7 })
	var buf bytes.Buffer
	encodeAll := func() {
		buf.Reset()
		enc := gob.NewEncoder(&buf)
		for _, e := range es {
			if err := enc.Encode(&e.Key); err != nil {
				b.Fatal(err)
			}
			if err := enc.Encode(&e.Item.Value); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("op=encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encodeAll()
		}
		b.SetBytes(int64(buf.Len()))
		report(b, len(es))
	})
	b.Run("op=decode", func(b *testing.B) {
		encodeAll()
		snap := buf.Bytes()
		b.SetBytes(int64(len(snap)))
		b.ReportAllocs()
		for b.Loop() {
			dec := gob.NewDecoder(bytes.NewReader(snap))
			for range es {
				var k string
				var v int
				if err := dec.Decode(&k); err != nil {
					b.Fatal(err)
				}
				if err := dec.Decode(&v); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, len(es))
	})
}
