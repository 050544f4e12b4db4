package harness

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// sampleEvery says which calls are timed: one in sampleEvery. Timing one
// costs two clock reads, which would weigh on the fastest operations if
// every call paid them.
const sampleEvery = 16

// The phases of a measurement, which the workers watch.
const (
	warming int32 = iota
	measuring
	stopping
)

// measurement is what one design did in one cell while measured.
type measurement struct {
	ops     uint64
	wall    time.Duration
	cpu     time.Duration // user+sys of the whole process
	mallocs uint64
	latency histogram
}

// worker is one goroutine of a measurement and what it counted. Workers
// are allocated one by one, so that their counters do not share cache lines.
type worker struct {
	ops     uint64
	err     error
	latency histogram
}

// warmup returns the warm-up before a measurement of d: long enough for
// every goroutine to be running and the store to be warm.
func warmup(d time.Duration) time.Duration { return d / 10 }

// maxWindow bounds how long measure stretches a window in which no call
// finished.
const maxWindow = 5 * time.Second

// measure runs o from g goroutines, each starting at its own offset in the
// stream and advancing step positions per operation, for a warm-up and then
// for d measured. When no call finished in d — a long garbage collection,
// a busy machine — it measures again for twice as long, up to maxWindow,
// so that one bad moment does not end a long run.
func measure(o op, g, step int, d time.Duration) (measurement, error) {
	for {
		m, err := measureOnce(o, g, step, d)
		if err != nil || m.ops > 0 {
			return m, err
		}
		if d >= maxWindow {
			return m, fmt.Errorf("no call finished in %v", d)
		}
		d = min(2*d, maxWindow)
	}
}

// measureOnce is one measurement of measure.
func measureOnce(o op, g, step int, d time.Duration) (measurement, error) {
	var phase atomic.Int32
	workers := make([]*worker, g)
	// Workers wait until all are there: a worker that never blocks would
	// otherwise take the spawning goroutine's core from it, a time slice
	// at a time.
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		w := new(worker)
		workers[i] = w
		p := i * (streamLen / g)
		p -= p % step
		wg.Go(func() {
			<-start
			w.run(o, i, p, step, &phase)
		})
	}
	close(start)
	time.Sleep(warmup(d))
	var before, after usage
	before.read()
	t0 := time.Now()
	phase.Store(measuring)
	time.Sleep(d)
	phase.Store(stopping)
	wall := time.Since(t0)
	after.read()
	wg.Wait()

	m := measurement{wall: wall, cpu: after.cpu - before.cpu, mallocs: after.mallocs - before.mallocs}
	for _, w := range workers {
		if w.err != nil {
			return m, w.err
		}
		m.ops += w.ops
		m.latency.merge(&w.latency)
	}
	return m, nil
}

// run calls o from stream position p on until the phase is stopping,
// counting what it did while the phase was measuring. It stops at the
// first error. Worker i counts its calls from i, so that workers time
// different calls: in step, they would all time the same calls of a cycle,
// or none.
func (w *worker) run(o op, i, p, step int, phase *atomic.Int32) {
	seen := warming
	for n := i; ; n++ {
		// A load of a word written twice per measurement: it stays in
		// every core's cache, as a shared counter would not.
		if ph := phase.Load(); ph != seen {
			// Whether the warm-up ends in the measurement or, for a worker
			// that waited for a core the whole measurement, in the stop,
			// what was counted so far does not count.
			if seen == warming {
				w.ops, w.latency = 0, histogram{}
			}
			if seen = ph; seen == stopping {
				return
			}
		}
		var err error
		if n%sampleEvery == 0 {
			t := time.Now()
			err = o(p)
			w.latency.record(time.Since(t))
		} else {
			err = o(p)
		}
		if err != nil {
			w.err = err
			return
		}
		w.ops++
		if p += step; p == streamLen {
			p = 0
		}
	}
}

// usage is the process's resource counters at one moment.
type usage struct {
	cpu     time.Duration
	mallocs uint64
}

func (u *usage) read() {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // fails only for a bad pointer or an unknown who
	u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms) // stops the world, briefly: only at the edges of a measurement
	u.mallocs = ms.Mallocs
}

// A histogram has subBuckets buckets per power of two. A bucket is at most
// 1/16 of its values wide, so a percentile read at its middle is within
// 1/32 of the truth.
const (
	subBits    = 4
	subBuckets = 1 << subBits
)

// histogram counts durations in log-linear buckets: one per nanosecond
// below subBuckets ns, then subBuckets per power of two. Recording is an
// index computation and an increment, without allocation, and merging is
// adding arrays.
type histogram struct {
	counts [(64 - subBits + 1) * subBuckets]uint64
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucket(uint64(max(d, 0)))]++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
}

// percentile returns the duration below which a fraction q (0 to 1) of the
// recorded durations lie, read at the middle of its bucket; zero when
// nothing was recorded.
func (h *histogram) percentile(q float64) time.Duration {
	var total uint64
	for _, c := range h.counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := min(max(uint64(math.Ceil(q*float64(total))), 1), total)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			low, width := bucketRange(i)
			return time.Duration(low + width/2)
		}
	}
	panic("unreachable: rank is at most total")
}

// bucket returns the index of v's bucket: v itself below subBuckets, else
// its power of two and its next subBits bits.
func bucket(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return (shift+1)<<subBits + int(v>>shift&(subBuckets-1))
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < subBuckets {
		return uint64(i), 1
	}
	shift := i>>subBits - 1
	return uint64(subBuckets+i&(subBuckets-1)) << shift, 1 << shift
}
