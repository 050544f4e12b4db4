package lastmodstore_test

// The soak: minutes of mixed load on each design — every operation, TTL
// churn swept by the cleanup actors, capacity evictions, eviction callbacks
// that now and then panic or dawdle, watchers coming and going (some never
// reading), and periodic stops (Shutdown or the end of Start's context) and
// restarts. It records the goroutine count and the live heap (after
// runtime.GC) at the start, every so often, and at the end, once the load
// has stopped, every item has expired and been swept, and the store is
// cleared and shut down: by then both must be back at their baseline, or
// something — an index, a watcher list, a pool, a goroutine — leaks. It also
// checks that every expiry and eviction had its one callback or was counted
// as dropped, and that every call got its normal answer or a sentinel.
//
// It runs only with LASTMODSTORE_SOAK=1, for LASTMODSTORE_SOAK_DURATION
// (default 2m) per design:
//
//	LASTMODSTORE_SOAK=1 go test -run Soak -v -timeout 20m .
//
// Names here start with soak: the package dot-imports package store.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/store"
)

// The shape of the load.
const (
	soakKeys        = 20000                  // the key space
	soakMaxSize     = 4000                   // under EvictOldest: capacity evictions
	soakTTL         = 100 * time.Millisecond // the Config's TTL, for Set, SetMany, CompareAndSet
	soakMaxTTL      = 200 * time.Millisecond // SetWithTTL's TTLs are 1ms…soakMaxTTL
	soakCleanup     = 5 * time.Millisecond
	soakLoaders     = 6
	soakMaxWatchers = 16
	soakHeapSlack   = 2 << 20 // the heap may end this much above its baseline, or 10%
)

func TestSoak(t *testing.T) {
	if os.Getenv("LASTMODSTORE_SOAK") != "1" {
		t.Skip("the soak runs with LASTMODSTORE_SOAK=1 (and LASTMODSTORE_SOAK_DURATION, default 2m, per design)")
	}
	duration := 2 * time.Minute
	if v := os.Getenv("LASTMODSTORE_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("LASTMODSTORE_SOAK_DURATION=%q: want a positive duration", v)
		}
		duration = d
	}
	forEachDesign(t, func(t *testing.T, d design) { soak(t, d, duration) })
}

// soakFigures is what the soak watches for leaks.
type soakFigures struct {
	goroutines  int
	heap        uint64 // HeapAlloc after a GC: the live heap
	heapObjects uint64
}

func soakMeasure() soakFigures {
	// Two cycles: the first moves sync.Pool contents to the victim cache,
	// the second frees them.
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return soakFigures{goroutines: runtime.NumGoroutine(), heap: m.HeapAlloc, heapObjects: m.HeapObjects}
}

func (f soakFigures) String() string {
	return fmt.Sprintf("goroutines %d, heap %.2f MiB (%d objects)", f.goroutines, float64(f.heap)/(1<<20), f.heapObjects)
}

// soakCounts is what the soak's goroutines did and saw.
type soakCounts struct {
	ops, notRunning, notFound, conflicts         atomic.Int64
	expired, evicted, callbackPanics             atomic.Int64
	watches, watchLagged, watchEnded, watchStops atomic.Int64
	stops, cancels                               atomic.Int64

	mu   sync.Mutex
	bad  []string // the first unexpected answers
	nBad atomic.Int64

	// running is closed while the store runs; the restarter puts a new one
	// in place before each stop and closes it once the store runs again,
	// so a loader told ErrNotRunning waits for the restart instead of
	// spinning. done ends every wait when the load stops.
	running atomic.Pointer[chan struct{}]
	done    <-chan struct{}
}

// newSoakCounts returns counts for a store that runs now, whose load
// stops when done is closed.
func newSoakCounts(done <-chan struct{}) *soakCounts {
	c := &soakCounts{done: done}
	up := make(chan struct{})
	close(up)
	c.running.Store(&up)
	return c
}

// stopping puts an open running channel in place before a stop and
// returns it, for the restarter to close once the store runs again.
func (c *soakCounts) stopping() chan struct{} {
	down := make(chan struct{})
	c.running.Store(&down)
	return down
}

// fail records something the contract does not allow.
func (c *soakCounts) fail(format string, args ...any) {
	if c.nBad.Add(1) > 20 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad = append(c.bad, fmt.Sprintf(format, args...))
}

// answer counts the answer of one operation: nil or a sentinel it allows.
func (c *soakCounts) answer(op string, err error) {
	c.ops.Add(1)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotRunning):
		c.notRunning.Add(1)
		select { // stopped for a restart: wait for it rather than spin
		case <-*c.running.Load():
		case <-c.done:
		}
	case errors.Is(err, store.ErrNotFound):
		c.notFound.Add(1)
	case errors.Is(err, store.ErrConflict):
		c.conflicts.Add(1)
	default:
		c.fail("%s: %v", op, err)
	}
}

func (c *soakCounts) String() string {
	return fmt.Sprintf("%d ops (%d ErrNotRunning, %d ErrNotFound, %d ErrConflict); callbacks: %d expired, %d evicted, %d panicked; "+
		"%d watches (%d lagged, %d ended by their context, %d by a stop); %d stops by Shutdown, %d by the context",
		c.ops.Load(), c.notRunning.Load(), c.notFound.Load(), c.conflicts.Load(),
		c.expired.Load(), c.evicted.Load(), c.callbackPanics.Load(),
		c.watches.Load(), c.watchLagged.Load(), c.watchEnded.Load(), c.watchStops.Load(),
		c.stops.Load(), c.cancels.Load())
}

func soakKey(n int) string { return "k" + strconv.Itoa(n) }

// soakStats describes the store's counters, or why there are none.
func soakStats(s intStore) string {
	st, err := s.Stats()
	if err != nil {
		return "stats: " + err.Error()
	}
	return fmt.Sprintf("items %d, writes %d, expirations %d, evictions %d, restarts %d, watchers %d, pending %d, dropped %d",
		st.Items, st.Writes, st.Expirations, st.Evictions, st.Restarts, st.Watchers, st.Pending, st.Dropped)
}

func soak(t *testing.T, d design, duration time.Duration) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %v", seed, duration)
	base := soakMeasure()
	t.Logf("baseline: %v", base)

	stop := make(chan struct{})
	c := newSoakCounts(stop)
	var callbacks atomic.Int64
	onEvict := func(_ string, _ *store.Item[int], reason store.EvictReason) {
		n := callbacks.Add(1)
		if reason == store.EvictCapacity {
			c.evicted.Add(1)
		} else {
			c.expired.Add(1)
		}
		switch {
		case n%5000 == 0:
			c.callbackPanics.Add(1)
			panic("soak: an eviction callback panics")
		case n%1000 == 0:
			<-time.After(time.Millisecond) // a slow callback holds up its cleanup actor, not the store
		}
	}
	s, err := openerFor[string, int](d)(store.Config{
		MaxSize:         soakMaxSize,
		Eviction:        store.EvictOldest,
		TTL:             soakTTL,
		CleanupInterval: soakCleanup,
	}, store.WithOnEvict(onEvict))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for i := range soakLoaders {
		wg.Go(func() { soakLoad(s, d, rand.New(rand.NewPCG(seed, uint64(i))), stop, c) })
	}
	if d.actor {
		wg.Go(func() { soakWatchers(asActor(s), rand.New(rand.NewPCG(seed, 1000)), stop, c) })
	}
	// The restarter owns ctx and cancel while it runs.
	wg.Go(func() { ctx, cancel = soakRestarter(s, rand.New(rand.NewPCG(seed, 2000)), stop, c, ctx, cancel) })

	began := time.Now()
	every := min(10*time.Second, max(duration/6, time.Second))
	tick := time.NewTicker(every)
	end := time.NewTimer(duration)
	for running := true; running; {
		select {
		case <-tick.C:
			t.Logf("%5.0fs: %v; %s; %v", time.Since(began).Seconds(), soakMeasure(), soakStats(s), c)
		case <-end.C:
			running = false
		}
	}
	tick.Stop()
	close(stop)
	awaitGroup(t, "the load winding down", &wg, time.Minute)
	defer cancel()
	t.Logf("load stopped: %v; %s; %v", soakMeasure(), soakStats(s), c)

	// The restarter leaves the store running. Wait for every item to expire
	// and be swept, and every callback to have run.
	if !s.IsRunning() {
		t.Fatalf("the store is not running after the load: Err = %v", s.Err())
	}
	swept := func() bool {
		st, err := s.Stats()
		return err == nil && st.Items == 0 && st.Pending == 0
	}
	gomega.NewWithT(t).Eventually(swept).WithTimeout(time.Minute).WithPolling(10*time.Millisecond).
		Should(gomega.BeTrue(), func() string {
			return "items not all expired and swept a minute after the load: " + soakStats(s)
		})
	if st, _ := s.Stats(); st.Watchers != 0 {
		t.Errorf("%d watchers left after every watcher goroutine ended", st.Watchers)
	}
	if err := s.Clear(); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	t.Logf("expired, swept and cleared: %s", soakStats(s))
	st, err := s.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if err := s.Shutdown(); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	cancel()

	// Once stopped, every expiry and eviction has had its one callback,
	// panicking ones included, or is counted as dropped (WithOnEvict).
	removed := st.Expirations + st.Evictions
	called := uint64(c.expired.Load() + c.evicted.Load())
	t.Logf("eviction callbacks: %d expirations + %d evictions = %d; %d callbacks (%d expired, %d evicted) + %d dropped = %d",
		st.Expirations, st.Evictions, removed, called, c.expired.Load(), c.evicted.Load(), st.Dropped, called+st.Dropped)
	if called+st.Dropped != removed {
		t.Errorf("%d items expired or were evicted, but %d callbacks ran and %d notices were dropped: %d callbacks missing",
			removed, called, st.Dropped, int64(removed)-int64(called+st.Dropped))
	}

	c.mu.Lock()
	for _, bad := range c.bad {
		t.Error(bad)
	}
	c.mu.Unlock()
	if n := c.nBad.Load(); n > 20 {
		t.Errorf("… %d unexpected answers in all", n)
	}

	// Goroutines on their way out (context.AfterFunc's, a callback's) get a
	// few seconds.
	var final soakFigures
	soakEventually().Eventually(func() int {
		final = soakMeasure()
		return final.goroutines
	}).WithTimeout(10 * time.Second).WithPolling(50 * time.Millisecond).Should(gomega.BeNumerically("<=", base.goroutines))
	t.Logf("final: %v (baseline %v): goroutines %+d, heap %+.2f MiB", final, base,
		final.goroutines-base.goroutines, (float64(final.heap)-float64(base.heap))/(1<<20))
	if final.goroutines > base.goroutines {
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("%d goroutines left above the baseline of %d:\n%s", final.goroutines-base.goroutines, base.goroutines, b.String())
	}
	if slack := max(soakHeapSlack, base.heap/10); final.heap > base.heap+slack {
		t.Errorf("the live heap is %.2f MiB, %.2f MiB above its baseline (allowed %.2f MiB): a leak",
			float64(final.heap)/(1<<20), float64(final.heap-base.heap)/(1<<20), float64(slack)/(1<<20))
	}
	runtime.KeepAlive(s) // the store itself is part of what is measured
}

// soakLoad calls s at random, keys from the whole key space, until stop is
// closed.
func soakLoad(s intStore, d design, rng *rand.Rand, stop <-chan struct{}, c *soakCounts) {
	key := func() string { return soakKey(rng.IntN(soakKeys)) }
	for {
		select {
		case <-stop:
			return
		default:
		}
		switch n := rng.IntN(1000); {
		case n < 300:
			c.answer("Set", s.Set(key(), n))
		case n < 450:
			c.answer("SetWithTTL", s.SetWithTTL(key(), n, time.Duration(1+rng.IntN(int(soakMaxTTL/time.Millisecond)))*time.Millisecond))
		case n < 750:
			c.answer("Get", errOf(s.Get(key())))
		case n < 850:
			c.answer("Delete", s.Delete(key()))
		case n < 900:
			keys := make([]string, 8)
			for i := range keys {
				keys[i] = key()
			}
			c.answer("GetMany", errOf(s.GetMany(keys)))
		case n < 940:
			items := make(map[string]int, 4)
			for range 4 {
				items[key()] = n
			}
			c.answer("SetMany", s.SetMany(items))
		case n < 980:
			k := key()
			var revision uint64
			if item, err := s.Get(k); err == nil {
				revision = item.Revision
			}
			c.answer("CompareAndSet", errOf(s.CompareAndSet(k, n, revision)))
		case n < 990:
			c.answer("Size", errOf(s.Size()))
		case n < 995:
			c.answer("Stats", errOf(s.Stats()))
		case n < 998 && d.actor:
			c.answer("ModifiedSince", errOf(asActor(s).ModifiedSince(time.Now().Add(-time.Millisecond))))
		default:
			c.answer("List", errOf(s.List()))
		}
	}
}

// soakWatchers starts watchers until stop is closed, at most
// soakMaxWatchers at a time, each for a random while: most read every
// event, some never read and fall behind. Every watch must end — by lag,
// by its context, or by a stop of the store — with its channel closed.
func soakWatchers(s *store.Store[string, int], rng *rand.Rand, stop <-chan struct{}, c *soakCounts) {
	slots := make(chan struct{}, soakMaxWatchers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(rng.IntN(20)) * time.Millisecond):
		}
		select {
		case slots <- struct{}{}:
		default:
			continue
		}
		life := time.Duration(1+rng.IntN(300)) * time.Millisecond
		reads := rng.IntN(4) != 0
		wg.Go(func() {
			defer func() { <-slots }()
			ctx, cancel := context.WithTimeout(context.Background(), life)
			defer cancel()
			ch, err := s.Watch(ctx)
			if err != nil {
				// A stopped store, or a life so short it ended before Watch.
				if !errors.Is(err, store.ErrNotRunning) && !errors.Is(err, context.DeadlineExceeded) {
					c.fail("Watch: %v", err)
				}
				return
			}
			c.watches.Add(1)
			if !reads {
				<-ctx.Done()
			}
			var last store.Event[string, int]
			for ev := range ch {
				last = ev
			}
			switch {
			case last.Kind != store.EventEnd:
				c.fail("a watch's channel closed without EventEnd")
			case errors.Is(last.Err, store.ErrWatchLagging):
				c.watchLagged.Add(1)
			case errors.Is(last.Err, context.DeadlineExceeded):
				c.watchEnded.Add(1)
			case errors.Is(last.Err, store.ErrNotRunning):
				c.watchStops.Add(1)
			default:
				c.fail("a watch ended with %v", last.Err)
			}
		})
	}
}

// soakRestarter stops and restarts s every few seconds until stop is
// closed, by Shutdown or by cancelling Start's context, and returns the
// context of the last Start; it leaves s running.
func soakRestarter(s intStore, rng *rand.Rand, stop <-chan struct{}, c *soakCounts, ctx context.Context, cancel context.CancelFunc) (context.Context, context.CancelFunc) {
	for {
		select {
		case <-stop:
			return ctx, cancel
		case <-time.After(time.Second + time.Duration(rng.IntN(3000))*time.Millisecond):
		}
		down := c.stopping()
		if rng.IntN(2) == 0 {
			if err := s.Shutdown(); err != nil {
				c.fail("Shutdown: %v", err)
			}
			c.stops.Add(1)
		} else {
			cancel()
			if !soakEventually().Eventually(s.IsRunning).WithTimeout(10 * time.Second).WithPolling(time.Millisecond).Should(gomega.BeFalse()) {
				c.fail("still running 10s after its context was cancelled")
			}
			if err := s.Shutdown(); err != nil {
				c.fail("Shutdown after the cancel: %v", err)
			}
			c.cancels.Add(1)
		}
		// Stay stopped a while, as a real restart would, so the loaders
		// meet a stopped store and wait for it.
		select {
		case <-stop:
		case <-time.After(time.Duration(rng.IntN(50)) * time.Millisecond):
		}
		ctx, cancel = context.WithCancel(context.Background())
		if err := s.Start(ctx); err != nil {
			c.fail("Start: %v", err)
		}
		close(down)
	}
}

// soakEventually returns a Gomega whose failed assertions only report
// false, for waits whose failure the caller words itself.
func soakEventually() gomega.Gomega {
	return gomega.NewGomega(func(string, ...int) {})
}
