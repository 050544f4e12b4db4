package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzValue is the value type FuzzDecode decodes: a struct with the field
// kinds whose lengths gob reads from the input.
type fuzzValue struct {
	N int
	S string
	B []byte
	L []int16
}

// FuzzDecode feeds Decode arbitrary bytes. With reseal set, the input's
// checksums are recomputed first, so the fuzzer also reaches the checks
// and the codec behind them, which an intact checksum guards otherwise.
//
// Whatever the input, Decode must not panic, must allocate no more than a
// bounded multiple of the input's size, and must refuse it, if at all, with
// ErrCorrupt or the codec's error. What it accepts must encode again to a
// snapshot that decodes to the same header (but for its version: Encode
// writes the current one) and items, TTLs included. The seeds below are
// of the current version; those in testdata/fuzz/FuzzDecode, of version 1.
func FuzzDecode(f *testing.F) {
	for _, n := range []int{0, 1, 2, 5, 40} {
		es := entries(n, strconv.Itoa, func(i int) fuzzValue {
			return fuzzValue{N: i, S: strings.Repeat("s", i%4), B: []byte{byte(i)}, L: []int16{int16(i), -1}}
		})
		snap := encode(Gob{}, es)
		f.Add(snap, false)
		f.Add(snap[:len(snap)/2], false)
		damaged := bytes.Clone(snap)
		damaged[len(damaged)/3] ^= 0x10
		f.Add(damaged, true)
	}
	f.Add([]byte(magic), false)

	f.Fuzz(func(t *testing.T, data []byte, sealed bool) {
		if sealed {
			data = reseal(data)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h, rs, err := decodeWithin(fuzzDecodeBound, data)
		runtime.ReadMemStats(&after)

		// A record costs about 150 bytes, and Decode allocates at most
		// one for every byte checked; gob may allocate up to 10 MiB for a
		// slice length it has not yet seen the elements of.
		if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(192*len(data)+32<<20); alloc > limit {
			t.Fatalf("decoding %d bytes allocated %d bytes, more than %d", len(data), alloc, limit)
		}
		if err != nil {
			if rs != nil {
				t.Fatalf("records %v returned with error %v", rs, err)
			}
			// Even unsealed, an input may carry valid checksums (a forged
			// seed, say) and so reach the codec.
			if !errors.Is(err, ErrCorrupt) && !strings.Contains(err.Error(), `with codec "gob"`) {
				t.Fatalf("error neither ErrCorrupt nor the codec's: %v", err)
			}
			return
		}

		var again bytes.Buffer
		if err := Encode(&again, Gob{}, h.Revision, h.LastModified, asEntries(rs)); err != nil {
			t.Fatalf("re-encoding what Decode accepted: %v", err)
		}
		h2, rs2, err := Decode[string, fuzzValue](&again, Gob{})
		if err != nil {
			t.Fatalf("decoding the re-encoded snapshot: %v", err)
		}
		if h2.Version != Version {
			t.Fatalf("re-encoded as version %d, not %d", h2.Version, Version)
		}
		if h2.Version = h.Version; h2 != h { // a version 1 input comes back as the current version
			t.Fatalf("header %+v became %+v", h, h2)
		}
		if !reflect.DeepEqual(canonical(rs), canonical(rs2)) {
			t.Fatalf("records %+v became %+v", rs, rs2)
		}
	})
}

// fuzzDecodeBound bounds each Decode of FuzzDecode, thousands of times what
// the largest seed takes under -race.
const fuzzDecodeBound = 30 * time.Second

// decodeWithin decodes data as FuzzDecode does, and ends the test binary
// if that takes longer than bound. A plain test has no suite timeout, so a
// Decode that spins (a mutant of the loop that reads a payload, say) would
// otherwise hold the seed corpus, and the examples after it, until go
// test's own timeout of ten minutes; and since that Decode's goroutine
// cannot be stopped, only ending the binary ends it, as go test's timeout
// does: by a panic that prints every goroutine's stack.
func decodeWithin(bound time.Duration, data []byte) (Header, []Record[string, fuzzValue], error) {
	type result struct {
		h   Header
		rs  []Record[string, fuzzValue]
		err error
	}
	done := make(chan result, 1) // so the goroutine never blocks, even after a timeout
	go func() {
		h, rs, err := Decode[string, fuzzValue](bytes.NewReader(data), Gob{})
		done <- result{h, rs, err}
	}()
	timer := time.NewTimer(bound)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.h, r.rs, r.err
	case <-timer.C:
		debug.SetTraceback("all")
		panic(fmt.Sprintf("Decode of %d bytes did not return within %v: %x", len(data), bound, data))
	}
}

// canonical makes empty slices nil, as gob decodes them; a crafted input
// may hold an empty slice gob would never write.
func canonical(rs []Record[string, fuzzValue]) []Record[string, fuzzValue] {
	rs = append([]Record[string, fuzzValue](nil), rs...)
	for i := range rs {
		v := &rs[i].Item.Value
		if len(v.B) == 0 {
			v.B = nil
		}
		if len(v.L) == 0 {
			v.L = nil
		}
	}
	return rs
}
