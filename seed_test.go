package lastmodstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	// The seed's example names its store variable store, so the package is
	// dot-imported: the example then compiles with only its import path
	// changed.
	. "github.com/lastmodstore/lastmodstore/store"
)

// The seed's names, and every sentinel error, exist with their seed types.
var (
	_ *LastModifiedStore
	_ StoreItem
	_ = StoreItem{Value: nil, LastModified: time.Time{}}
	_ = Config{MaxSize: 0, WorkerCount: 0, CleanupInterval: 0}
)

var _ func(Config) (*LastModifiedStore, error) = NewLastModifiedStore

var (
	sentinels = []error{
		ErrInvalidConfig, ErrAlreadyRunning, ErrNotFound, ErrNotRunning,
		ErrNilContext, ErrStoreFull, ErrConflict, ErrInvalidTTL, ErrInvalidKey,
		ErrPanicked, ErrTooManyRestarts,
	}
)

// userData and refreshData stand in for the application data of the seed's
// example.
var userData = map[string]string{"name": "Ada"}

func refreshData() any { return map[string]string{"name": "Ada Lovelace"} }

// seedExample is the "Example Usage" of the seed's README, verbatim between
// the signature and the final return, which hands the store to the test.
func seedExample() *LastModifiedStore {
	// Create store with configuration
	store, err := NewLastModifiedStore(Config{
		MaxSize:         1000,
		WorkerCount:     4,
		CleanupInterval: 30 * time.Second,
	})
	if err != nil {
		panic(err)
	}

	// Start the store
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if err := store.Start(ctx); err != nil {
		panic(err)
	}
	defer store.Shutdown() // Graceful shutdown - waits for operations

	// Store values
	if err := store.Set("user:123", userData); err != nil {
		panic(err)
	}

	// Retrieve value with timestamp
	item, err := store.Get("user:123")
	if err != nil {
		panic(err)
	}
	fmt.Printf("Value: %v, Modified: %v\n", item.Value, item.LastModified)

	// Check freshness and refresh if needed
	if time.Since(item.LastModified) > 5*time.Minute {
		// Refresh from source
		newData := refreshData()
		store.Set("user:123", newData)
	}

	// Get store size
	size, err := store.Size()
	if err != nil {
		panic(err)
	}
	fmt.Printf("Store contains %d items\n", size)

	// Delete item
	if err := store.Delete("user:123"); err != nil {
		panic(err)
	}

	return store
}

func TestSeedExample(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	s := seedExample() // panics on any error
	if s.IsRunning() {
		t.Fatal("the example's deferred Shutdown left the store running")
	}
	if err := s.Set("late", 1); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Set after the example's Shutdown = %v, want ErrNotRunning", err)
	}

	// The example deleted its only item; its store, started again, is empty.
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start again: %v", err)
	}
	defer func() {
		if err := s.Shutdown(); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()
	if _, err := s.Get("user:123"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(user:123) = %v, want ErrNotFound", err)
	}
	if n, err := s.Size(); n != 0 || err != nil {
		t.Errorf("Size() = %d, %v; want 0, nil", n, err)
	}
}

func TestSentinelErrorsAreDistinct(t *testing.T) {
	for i, a := range sentinels {
		if a == nil {
			t.Errorf("sentinel %d is nil", i)
			continue
		}
		for j, b := range sentinels {
			if i != j && errors.Is(a, b) {
				t.Errorf("%q matches %q", a, b)
			}
		}
	}
}
