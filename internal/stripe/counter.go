package stripe

import (
	"math/bits"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// lineSize is the padding of one stripe. 128 rather than 64 bytes because
// x86 cores prefetch cache lines in adjacent pairs and some arm64 cores have
// 128-byte lines: two stripes 64 bytes apart would still bounce.
const lineSize = 128

// cell is one stripe: a count alone on its cache lines.
type cell struct {
	n atomic.Uint64
	_ [lineSize - 8]byte
}

// Counter is an exact event counter that many goroutines may add to at
// once. Each Add picks a stripe from the calling goroutine's identity, so
// goroutines running on different cores almost always write different cache
// lines; Load sums the stripes. Every method is safe for concurrent use and
// none blocks: they use atomic adds and loads only, never a lock or a
// compare-and-swap loop.
//
// Create one with New; the zero Counter has no stripes and must not be used.
// A Counter must not be copied after first use.
type Counter struct {
	// cells is set by New and never changed; each cell is written by any
	// goroutine through atomic adds only.
	cells []cell
	// mask is len(cells)-1 (a power of two minus one); set by New.
	mask uintptr
}

// New returns a Counter at zero with enough stripes for this process:
// four per P (GOMAXPROCS when New runs), rounded up to a power of two.
// Two goroutines running at once share a stripe with probability about
// 1/(4·GOMAXPROCS), and keep sharing it while their stacks stay put, so
// the stripes are plentiful: a Counter costs 512 bytes per P.
func New() *Counter {
	n := 4 * runtime.GOMAXPROCS(0)
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	return &Counter{cells: make([]cell, n), mask: uintptr(n - 1)}
}

// Inc adds one.
func (c *Counter) Inc() { c.Add(1) }

// Add adds delta.
func (c *Counter) Add(delta uint64) {
	c.cells[c.stripe()].n.Add(delta)
}

// stripe picks the calling goroutine's stripe from the address of a
// variable on its stack. Each goroutine has its own stack, so goroutines
// running at once on different cores get different addresses and, mixed,
// usually different stripes; the pick costs a multiply and no shared
// memory access. A stack that moves when it grows just moves its goroutine
// to another stripe, which does not matter: any stripe is correct, the
// choice only spreads the writes. Measured against the alternatives (a
// random stripe per call, a sync.Pool token per P) in counter_test.go.
func (c *Counter) stripe() uintptr {
	var probe byte
	// Goroutine stacks are at least 2 KiB apart and probe sits at about
	// the same offset in each, so the bits below 11 carry little; the
	// multiply spreads the rest over the high bits, which we keep.
	a := uint64(uintptr(unsafe.Pointer(&probe))) >> 11
	return uintptr(a*0x9E3779B97F4A7C15>>40) & c.mask
}

// Load returns the sum of the stripes. Once every Add has returned it is
// exactly the sum of their deltas; during concurrent Adds it includes every
// Add that returned before Load began and possibly some that are running.
func (c *Counter) Load() uint64 {
	var sum uint64
	for i := range c.cells {
		sum += c.cells[i].n.Load()
	}
	return sum
}
