package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/store"
)

// Lock-free reads under faults: readers hammer Get, which never waits for
// the owner, while the owner panics and restarts, while the read index
// grows and shrinks under a churn of keys, and while Shutdown runs. A
// reader must never see a value that was not written, nor an older value
// of a key after a newer one, nor miss a key that no one removes; it must
// never block; and nothing may be left running.
func TestLockFreeReadsUnderFaults(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	var panics atomic.Int64
	var failing atomic.Bool
	s := faultNewActor(t, store.Config{LockFreeReads: true}, func(op messages.Op) {
		// Every 25th write panics the owner while failing is on; a
		// generous restart limit lets the supervisor restart it each time.
		if failing.Load() && op == messages.OpSet && panics.Add(1)%25 == 0 {
			panic("injected fault")
		}
	}, store.WithRestartLimit[string, int](1_000_000, time.Hour))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}

	const stable = 64 // keys written before the readers start, never removed
	for i := range stable {
		if err := s.Set(fmt.Sprint("stable/", i), 0); err != nil {
			t.Fatal(err)
		}
	}
	// written[i] is the latest value acknowledged for stable key i: a
	// reader that starts after it must see it or a later one.
	var written [stable]atomic.Int64

	var reads atomic.Int64
	readErr := make(chan error, 8)
	readers := faultGo(4, func(r int) {
		var seen [stable]int
		for i := 0; ; i++ {
			k := i % stable
			floor := int(written[k].Load())
			item, err := s.Get(fmt.Sprint("stable/", k))
			if errors.Is(err, store.ErrNotRunning) {
				return
			}
			switch {
			case err != nil:
				readErr <- fmt.Errorf("reader %d: Get(stable/%d): %v", r, k, err)
				return
			case item.Value < floor:
				readErr <- fmt.Errorf("reader %d: stable/%d is %d after %d was acknowledged", r, k, item.Value, floor)
				return
			case item.Value < seen[k]:
				readErr <- fmt.Errorf("reader %d: stable/%d went back from %d to %d", r, k, seen[k], item.Value)
				return
			}
			seen[k] = item.Value
			reads.Add(1)
			// Churned keys come and go; whatever a reader finds must be
			// what was written under that key.
			if item, err := s.Get(fmt.Sprint("churn/", i%2048)); err == nil && item.Value != i%2048 {
				readErr <- fmt.Errorf("reader %d: churn/%d holds %d", r, i%2048, item.Value)
				return
			}
		}
	})

	failing.Store(true)
	// The writer: new values of the stable keys, and a churn of thousands
	// of keys set and deleted, so the index grows, fills with tombstones,
	// rebuilds and shrinks again, round after round. It runs on a
	// goroutine of its own, so that an owner that is not restarted fails
	// the test instead of hanging it.
	var writeErr error
	faultAwait(t, "the writer", faultCall(func() {
		for round := 1; round <= 2; round++ {
			for i := range 2048 {
				if err := s.Set(fmt.Sprint("churn/", i), i); err != nil && !errors.Is(err, store.ErrPanicked) {
					writeErr = fmt.Errorf("Set: %w", err)
					return
				}
				if i%16 == 0 {
					k := (i / 16) % stable
					v := round*10_000 + i
					if err := s.Set(fmt.Sprint("stable/", k), v); err == nil {
						written[k].Store(int64(v))
					} else if !errors.Is(err, store.ErrPanicked) {
						writeErr = fmt.Errorf("Set: %w", err)
						return
					}
				}
			}
			for i := range 2048 {
				if err := s.Delete(fmt.Sprint("churn/", i)); err != nil &&
					!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrPanicked) {
					writeErr = fmt.Errorf("Delete: %w", err)
					return
				}
			}
		}
	}))
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	failing.Store(false)
	faultUntil(t, "reads under way", func() bool { return reads.Load() >= 10_000 })
	if n := panics.Load(); n < 25 {
		t.Fatalf("only %d faulting writes: the owner never restarted", n)
	}

	shutdown := make(chan error, 1)
	faultAwait(t, "Shutdown with readers hammering", faultCall(func() { shutdown <- s.Shutdown() }))
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	faultAwait(t, "readers to see ErrNotRunning", readers)
	select {
	case err := <-readErr:
		t.Fatal(err)
	default:
	}
	st, err := s.Stats()
	if !errors.Is(err, store.ErrNotRunning) {
		t.Fatalf("Stats after Shutdown: %v, %v", st, err)
	}
	faultNoLeaks(t, ignore)
}
