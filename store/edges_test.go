package store_test

// Tests of the edges of the store's options and operations: a value at a
// limit, zero where zero means "the default" or "never", and what a
// replaced content leaves alive. Each was written to kill a mutant that
// lived (go run ./internal/tools/mutants).

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/internal/testclock"
	"github.com/lastmodstore/lastmodstore/store"
)

// namedCodec is gob under another name.
type namedCodec struct {
	store.GobCodec
	name string
}

func (c namedCodec) Name() string { return c.name }

func TestOptionsAtTheirEdges(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  store.Option[string, int]
		ok   bool
	}{
		{"restart limit 0 within 0: the default", store.WithRestartLimit[string, int](0, 0), true},
		{"restart limit -1", store.WithRestartLimit[string, int](-1, time.Second), false},
		{"watch buffer 1", store.WithWatchBuffer[string, int](1), true},
		{"watch buffer 0", store.WithWatchBuffer[string, int](0), false},
		{"history 0: none kept", store.WithHistory[string, int](0), true},
		{"history -1", store.WithHistory[string, int](-1), false},
		{"codec named with 255 bytes", store.WithCodec[string, int](namedCodec{name: strings.Repeat("c", 255)}), true},
		{"codec named with 256 bytes", store.WithCodec[string, int](namedCodec{name: strings.Repeat("c", 256)}), false},
		{"codec with an empty name", store.WithCodec[string, int](namedCodec{}), false},
	} {
		s, err := store.New(store.Config{}, tt.opt)
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case !tt.ok && !errors.Is(err, store.ErrInvalidConfig):
			t.Errorf("%s: got %v, want ErrInvalidConfig", tt.name, err)
		case tt.ok && s == nil:
			t.Errorf("%s: a nil store", tt.name)
		}
	}
}

// startStore starts a store of cfg and opts, shut down when t ends.
func startStore(t *testing.T, cfg store.Config, opts ...store.Option[string, int]) *store.Store[string, int] {
	t.Helper()
	s := faultNewActor(t, cfg, nil, opts...)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestSetWithTTLZeroNeverExpires(t *testing.T) {
	s := startStore(t, store.Config{TTL: time.Hour})
	if err := s.SetWithTTL("k", 1, 0); err != nil {
		t.Fatalf("SetWithTTL with 0: %v", err)
	}
	item, err := s.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	if !item.ExpiresAt.IsZero() {
		t.Errorf("ExpiresAt %v, want none: 0 means never, whatever the Config's TTL", item.ExpiresAt)
	}
}

func TestUpdateWithTTLZeroNeverExpires(t *testing.T) {
	s := startStore(t, store.Config{TTL: time.Hour})
	item, err := s.UpdateWithTTL("k", 0, func(*store.Item[int]) (int, store.Op) { return 1, store.Write })
	if err != nil {
		t.Fatalf("UpdateWithTTL with 0: %v", err)
	}
	if item == nil || item.Value != 1 || !item.ExpiresAt.IsZero() {
		t.Errorf("UpdateWithTTL with 0 wrote %+v, want value 1 and no ExpiresAt: 0 means never, whatever the Config's TTL", item)
	}
	if _, err := s.UpdateWithTTL("k", -1, func(*store.Item[int]) (int, store.Op) { return 2, store.Write }); !errors.Is(err, store.ErrInvalidTTL) {
		t.Errorf("UpdateWithTTL with -1: %v, want ErrInvalidTTL", err)
	}
}

// A panicking eviction callback counts in Stats.Restarts, once.
func TestCallbackPanicCountsInRestarts(t *testing.T) {
	s := startStore(t, store.Config{MaxSize: 1, Eviction: store.EvictOldest, WorkerCount: 1},
		store.WithOnEvict(func(string, *store.Item[int], store.EvictReason) { panic("callback") }))
	for _, k := range []string{"a", "b"} { // b evicts a
		if err := s.Set(k, 1); err != nil {
			t.Fatal(err)
		}
	}
	// The cleanup actor bumps the counter after the Set has returned.
	gomega.NewWithT(t).Eventually(func() (uint64, error) {
		st, err := s.Stats()
		return st.Restarts, err
	}).WithTimeout(10*time.Second).WithPolling(time.Millisecond).
		Should(gomega.Equal(uint64(1)), "Stats.Restarts, for the one callback that panicked")
}

// Load and Clear unlink the content they replaced, so an item a caller
// still holds keeps only itself alive, not every item stored beside it.
// (With no history: the history keeps the items of the changes it holds.)
func TestLoadAndClearFreeTheContentTheyReplaced(t *testing.T) {
	var empty strings.Builder
	if err := startStore(t, store.Config{}).Save(&empty); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		replace func(s *store.Store[string, int]) error
	}{
		{"Load", func(s *store.Store[string, int]) error { return s.Load(strings.NewReader(empty.String())) }},
		{"Clear", func(s *store.Store[string, int]) error { return s.Clear() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startStore(t, store.Config{}, store.WithHistory[string, int](0))
			for _, k := range []string{"held", "dropped"} {
				if err := s.Set(k, 1); err != nil {
					t.Fatal(err)
				}
			}
			held, err := s.Get("held")
			if err != nil {
				t.Fatal(err)
			}
			dropped, err := s.Get("dropped")
			if err != nil {
				t.Fatal(err)
			}
			gone := weak.Make(dropped)
			dropped = nil
			if err := tt.replace(s); err != nil {
				t.Fatal(err)
			}
			for range 20 {
				runtime.GC()
				if gone.Value() == nil {
					runtime.KeepAlive(held)
					return
				}
			}
			t.Errorf("an item the store no longer holds, and no caller, is still alive after 20 collections: the item a caller holds (%v) keeps it", held.Value)
		})
	}
}

// A conflict's error says what it found: no item, or the revision of the
// one there.
func TestConflictErrorMessage(t *testing.T) {
	if got := (&store.ConflictError{}).Error(); !strings.Contains(got, "absent") {
		t.Errorf("revision 0: %q, want it to say the key is absent", got)
	}
	if got := (&store.ConflictError{Revision: 7}).Error(); !strings.Contains(got, "revision 7") {
		t.Errorf("revision 7: %q, want it to name the revision", got)
	}
}

// A load that panics gives its waiters an error carrying the panic's value.
func TestLoadPanicCarriesItsValue(t *testing.T) {
	s := startStore(t, store.Config{})
	_, err := s.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) { panic("boom") })
	if !errors.Is(err, store.ErrLoadPanicked) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("got %v, want ErrLoadPanicked carrying boom", err)
	}
}

// With lock-free reads, a Get that finds an item expired (and not yet
// swept) answers ErrNotFound, having had the owner remove it.
func TestLockFreeGetOfAnExpiredItem(t *testing.T) {
	s := startStore(t, store.Config{LockFreeReads: true})
	if err := s.SetWithTTL("k", 1, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	gomega.NewWithT(t).Eventually(func() error {
		item, err := s.Get("k")
		if err == nil && item == nil || err != nil && !errors.Is(err, store.ErrNotFound) {
			return gomega.StopTrying(fmt.Sprintf("Get: %v, %v; want the item until its millisecond passes, then ErrNotFound", item, err))
		}
		return err
	}).WithTimeout(10*time.Second).WithPolling(100*time.Microsecond).
		Should(gomega.MatchError(store.ErrNotFound), "Get, once the item's millisecond has passed")
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Expirations != 1 || st.Items != 0 {
		t.Errorf("Stats: %d expirations, %d items; want the owner to have removed it", st.Expirations, st.Items)
	}
}

// With lock-free reads, a Get whose look at the clock finds an item
// expired leaves the verdict to the owner, by the owner's clock: when that
// finds it live, Get returns it, counted once as a hit. Answering not found
// from the reader's clock alone could contradict an owner's step (a Touch,
// an Update) that read the time before it.
func TestLockFreeGetLetsTheOwnerJudgeExpiry(t *testing.T) {
	clock := &testclock.AheadOnce{At: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	// No sweep may take the one look ahead: the cleaners wait an hour.
	s := startStore(t, store.Config{LockFreeReads: true, CleanupInterval: time.Hour},
		store.WithClock[string, int](clock.Now))
	if err := s.SetWithTTL("k", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	// The reader's look finds k expired, the owner's next look live.
	clock.Ahead.Store(true)
	item, err := s.Get("k")
	if err != nil || item == nil || item.Value != 1 {
		t.Fatalf("Get(k) = %v, %v; want the item the owner finds live", item, err)
	}
	if clock.Ahead.Load() {
		t.Fatal("the Get never looked at the clock: the test did not reach the case it is for")
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Hits != 1 || st.Misses != 0 || st.Expirations != 0 || st.Items != 1 {
		t.Errorf("Stats: %d hits, %d misses, %d expirations, %d items; want 1, 0, 0, 1", st.Hits, st.Misses, st.Expirations, st.Items)
	}
}

// The owner's answer to a lock-free Get that overlapped a change to
// several keys is a Get's: the item, or ErrNotFound.
func TestOwnerGetAnswersAsGet(t *testing.T) {
	s := startStore(t, store.Config{LockFreeReads: true})
	if err := s.Set("a", 1); err != nil {
		t.Fatal(err)
	}
	if it, err := store.OwnerGet(s, "a"); err != nil || it == nil || it.Value != 1 {
		t.Errorf("OwnerGet(a) = %v, %v; want the item of value 1", it, err)
	}
	if it, err := store.OwnerGet(s, "absent"); !errors.Is(err, store.ErrNotFound) || it != nil {
		t.Errorf("OwnerGet(absent) = %v, %v; want ErrNotFound", it, err)
	}
}

// WatchFrom returns once the replay is in the channel, whether it took
// the owner one step or several: a call that goes on asking after the
// replay is done never returns.
func TestWatchFromReturnsOnceReplayed(t *testing.T) {
	for _, n := range []int{3, 5000} { // one replay step, and several
		s := startStore(t, store.Config{}, store.WithHistory[string, int](n))
		for i := range n {
			if err := s.Set(fmt.Sprint(i), i); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var events <-chan store.Event[string, int]
		var err error
		faultAwait(t, fmt.Sprintf("WatchFrom(0) over %d changes", n), faultCall(func() { events, err = s.WatchFrom(ctx, 0) }))
		if err != nil {
			t.Fatalf("WatchFrom(0) over %d changes: %v", n, err)
		}
		if got := len(events); got != n {
			t.Errorf("WatchFrom(0) over %d changes has %d in its channel, want all", n, got)
		}
		cancel()
	}
}
