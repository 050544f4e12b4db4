package store_test

// Regression tests for guarantees an outside review found broken: each
// failed before its fix (the racy ones within their repetitions, under
// -race) and names the guarantee it keeps.

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

// Evictions that happen while the store stops get their callbacks before
// Shutdown returns. A cleanup actor used to drop the notices the owner had
// just handed it when its stop arrived at the same moment.
func TestGuaranteeNoCallbackLostAtShutdown(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	var callbacks atomic.Uint64
	s := faultNewActor(t, store.Config{MaxSize: 1, Eviction: store.EvictOldest, WorkerCount: 1}, nil,
		store.WithOnEvict(func(string, *store.Item[int], store.EvictReason) { callbacks.Add(1) }))
	for round := range rounds {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		before := callbacks.Load()
		writing := faultGo(4, func(w int) {
			for i := 0; ; i++ {
				if err := s.Set(fmt.Sprintf("%d/%d/%d", round, w, i), i); err != nil {
					return // ErrNotRunning: the stop began
				}
			}
		})
		faultUntil(t, "evictions under way", func() bool { return callbacks.Load() >= before+32 })
		if err := faultShutdown(t, s); err != nil {
			t.Fatalf("round %d: Shutdown: %v", round, err)
		}
		faultAwait(t, "writers", writing)
		got := callbacks.Load()

		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if err := faultShutdown(t, s); err != nil {
			t.Fatal(err)
		}
		if got != st.Evictions {
			t.Fatalf("round %d: %d evictions, but %d callbacks when Shutdown returned", round, st.Evictions, got)
		}
	}
	faultNoLeaks(t, ignore)
}

// The stop timeout bounds how long Shutdown waits for a blocked callback;
// the owner always drains what was admitted. It used to apply to the owner
// too: Shutdown returned ErrStopTimeout while the owner still served, and
// left it running beside what came next.
func TestGuaranteeStopTimeoutIsNotTheOwners(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	s := faultNewActor(t, store.Config{}, nil, store.WithStopTimeout[string, int](time.Millisecond))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	items := make(map[string]int, 50_000)
	for i := range 50_000 {
		items[fmt.Sprint(i)] = i
	}
	if err := s.SetMany(items); err != nil {
		t.Fatal(err)
	}
	var lists atomic.Int64
	listing := faultGo(16, func(int) {
		for {
			if _, err := s.List(); err != nil {
				return
			}
			lists.Add(1)
		}
	})
	faultUntil(t, "Lists under way", func() bool { return lists.Load() >= 16 })
	// 16 Lists of 50,000 items queue in the mailbox: draining them takes
	// far longer than the stop timeout.
	if err := faultShutdown(t, s); err != nil {
		t.Fatalf("Shutdown: %v, want nil: the owner drains what was admitted", err)
	}
	faultAwait(t, "listers", listing)
	faultNoLeaks(t, ignore) // no owner left behind, blocked on its mailbox
}

// A watch ends when the store stops, and only the owner ever sends on it.
// With the stop timeout on the owner, the store closed watch channels the
// owner was still sending on (a data race under -race).
func TestGuaranteeWatchesEndAfterTheOwnerStops(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	s := faultNewActor(t, store.Config{}, nil, store.WithStopTimeout[string, int](time.Microsecond))
	for round := range 20 {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		events, err := s.Watch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var seen atomic.Int64
		watching := faultCall(func() {
			for ev := range events {
				if ev.Kind == store.EventEnd && !errors.Is(ev.Err, store.ErrNotRunning) && !errors.Is(ev.Err, store.ErrWatchLagging) {
					t.Errorf("round %d: watch ended with %v", round, ev.Err)
				}
				seen.Add(1)
			}
		})
		writing := faultGo(8, func(w int) {
			for i := 0; ; i++ {
				if s.Set(fmt.Sprintf("%d/%d", w, i%100), i) != nil {
					return
				}
			}
		})
		faultUntil(t, "events flowing", func() bool { return seen.Load() >= 100 })
		if err := faultShutdown(t, s); err != nil {
			t.Fatalf("round %d: Shutdown: %v", round, err)
		}
		faultAwait(t, "writers", writing)
		faultAwait(t, "the watch to end", watching)
	}
	faultNoLeaks(t, ignore)
}

// When the owner is gone, every call — a caller's or an eviction
// callback's — gets ErrNotRunning at once. After the owner passed its
// restart limit, a callback's call used to land in a mailbox nobody read,
// and the supervisor waited the whole stop timeout for its cleaner; with
// no stop timeout it waited forever.
func TestGuaranteeCallsFailFastOnceTheOwnerIsGone(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	var failing atomic.Bool
	entered := make(chan struct{})
	release := make(chan struct{})
	callbackGot := make(chan error, 1)
	var once atomic.Bool
	var s *store.Store[string, int]
	s = faultNewActor(t, store.Config{MaxSize: 1, Eviction: store.EvictOldest, WorkerCount: 2},
		func(op messages.Op) {
			if failing.Load() && op == messages.OpSet {
				panic("injected fault")
			}
		},
		store.WithRestartLimit[string, int](1, time.Hour),
		store.WithStopTimeout[string, int](0), // wait for callbacks as long as they take
		store.WithOnEvict(func(string, *store.Item[int], store.EvictReason) {
			if !once.CompareAndSwap(false, true) {
				return
			}
			close(entered)
			<-release
			_, err := s.Get("b") // calls back into a store whose owner is gone
			callbackGot <- err
		}))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("a", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("b", 2); err != nil { // evicts a: the callback begins and waits
		t.Fatal(err)
	}
	faultAwait(t, "the callback", entered)
	failing.Store(true)
	for i, want := range []string{"restart 1 of 1", "the supervisor gives up"} {
		var err error
		faultAwait(t, fmt.Sprintf("Set %d (%s)", i, want), faultCall(func() { err = s.Set(fmt.Sprint("c", i), 3) }))
		if !errors.Is(err, store.ErrPanicked) {
			t.Fatalf("Set %d: %v, want ErrPanicked (%s)", i, err, want)
		}
	}
	// The gate closes as the supervisor gives up, before it stops the
	// cleaners, one of which is still in the callback.
	faultUntil(t, "the store stopping on its own", func() bool { return !s.IsRunning() })
	if _, err := s.Get("b"); !errors.Is(err, store.ErrNotRunning) {
		t.Errorf("a caller's Get once the owner is gone: %v, want ErrNotRunning", err)
	}
	close(release)
	var err error
	faultAwait(t, "the callback's Get", faultCall(func() { err = <-callbackGot }))
	if !errors.Is(err, store.ErrNotRunning) {
		t.Errorf("the callback's Get: %v, want ErrNotRunning", err)
	}
	shutdown := make(chan error, 1)
	faultAwait(t, "Shutdown", faultCall(func() { shutdown <- s.Shutdown() }))
	if err := <-shutdown; !errors.Is(err, store.ErrTooManyRestarts) {
		t.Errorf("Shutdown: %v, want ErrTooManyRestarts", err)
	}
	faultNoLeaks(t, ignore)
}
