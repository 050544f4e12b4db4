package main

import (
	"errors"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/internal/harness"
)

func TestMain(m *testing.M) {
	// A peer's Close that left a goroutine behind fails the run here.
	goleak.VerifyTestMain(m)
}

// open opens a cache of d, closed when the test ends.
func open(t *testing.T, d harness.Design) harness.Cache {
	t.Helper()
	c, err := d.Open()
	if err != nil {
		t.Fatalf("open %s: %v", d.Name, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close %s: %v", d.Name, err)
		}
	})
	return c
}

// awaitGroup waits for wg, failing t with what it waited for and every
// goroutine's stack if that takes longer than within, so a design that
// hangs fails its test instead of go test's global timeout.
func awaitGroup(t *testing.T, what string, wg *sync.WaitGroup, within time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
		t.Fatalf("%s: still waiting after %v\n%s", what, within, b.String())
	}
}

func TestEveryDesignFindsWhatWasSet(t *testing.T) {
	for _, d := range program().Designs {
		t.Run(d.Name, func(t *testing.T) {
			c := open(t, d)
			if err := c.Set("a", 1); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if err := c.Set("a", 2); err != nil {
				t.Fatalf("Set over it: %v", err)
			}
			if got, err := c.Get("a"); err != nil || got != 2 {
				t.Errorf("Get(a) = %d, %v; want 2, nil", got, err)
			}
		})
	}
}

func TestEveryPeerMissesWithErrMissing(t *testing.T) {
	for _, d := range peers() {
		t.Run(d.Name, func(t *testing.T) {
			if _, err := open(t, d).Get("absent"); !errors.Is(err, harness.ErrMissing) {
				t.Errorf("Get(absent) = %v, want ErrMissing", err)
			}
		})
	}
}

// TestEveryDesignKeepsConcurrentWrites writes disjoint keys from several
// goroutines at once, and reads them all back: what the workloads rely on
// when they run a design from many goroutines.
func TestEveryDesignKeepsConcurrentWrites(t *testing.T) {
	const writers, each = 4, 250
	for _, d := range program().Designs {
		t.Run(d.Name, func(t *testing.T) {
			c := open(t, d)
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						if err := c.Set(strconv.Itoa(w*each+i), w*each+i); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			awaitGroup(t, "the 4 writers to finish their Sets", &wg, 30*time.Second)
			close(errs)
			for err := range errs {
				t.Fatalf("Set: %v", err)
			}
			for i := range writers * each {
				if got, err := c.Get(strconv.Itoa(i)); err != nil || got != i {
					t.Fatalf("Get(%d) = %d, %v; want %d", i, got, err, i)
				}
			}
		})
	}
}

// TestPeersOfferTheSingleKeyWorkloadsAndIncrements checks that a peer
// offers at most Increments, and is an Incrementer exactly when it says
// so: none has batches or revisions.
func TestPeersOfferTheSingleKeyWorkloadsAndIncrements(t *testing.T) {
	for _, d := range peers() {
		c := open(t, d)
		_, batches := c.(harness.Batcher)
		_, versioned := c.(harness.Versioned)
		_, increments := c.(harness.Incrementer)
		if d.Offers&^harness.Increments != 0 || batches || versioned || increments != (d.Offers&harness.Increments != 0) {
			t.Errorf("%s offers %b, is a Batcher: %v, Versioned: %v, an Incrementer: %v; want increments only, as offered",
				d.Name, d.Offers, batches, versioned, increments)
		}
	}
}

// TestEveryPeerIncrementLosesNothing increments two keys from several
// goroutines at once through each peer's Increment, the read-modify-write
// workload's operation: every increment must be there at the end, and a
// missing key must be ErrMissing, not made.
func TestEveryPeerIncrementLosesNothing(t *testing.T) {
	const goroutines, each = 8, 300
	for _, d := range peers() {
		if d.Offers&harness.Increments == 0 {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			c := open(t, d)
			inc := c.(harness.Incrementer)
			keys := []string{"even", "odd"}
			for _, k := range keys {
				if err := c.Set(k, 0); err != nil {
					t.Fatalf("Set(%s): %v", k, err)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						if err := inc.Increment(keys[(g+i)%2]); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			awaitGroup(t, "the 8 incrementing goroutines to finish", &wg, 30*time.Second)
			close(errs)
			for err := range errs {
				t.Fatalf("Increment: %v", err)
			}
			for _, k := range keys {
				if got, err := c.Get(k); err != nil || got != goroutines*each/2 {
					t.Errorf("Get(%s) = %d, %v; want %d", k, got, err, goroutines*each/2)
				}
			}
			if err := inc.Increment("absent"); !errors.Is(err, harness.ErrMissing) {
				t.Errorf("Increment(absent) = %v, want ErrMissing", err)
			}
			if _, err := c.Get("absent"); err == nil {
				t.Errorf("Increment(absent) made the key")
			}
		})
	}
}
