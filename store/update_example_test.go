package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// An increment in one step: no Get, no CompareAndSet, no retries, however
// many goroutines increment at once.
func ExampleStore_Update() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	increment := func(item *store.Item[int]) (int, store.Op) {
		if item == nil {
			return 1, store.Write
		}
		return item.Value + 1, store.Write
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = s.Update("hits", increment)
			}
		})
	}
	wg.Wait()
	item, _ := s.Get("hits")
	fmt.Println(item.Value, item.Revision)
	// Output: 800 800
}

func ExampleStore_UpdateWithTTL() {
	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	// Create a session only if there is none, expiring in an hour.
	create := func(item *store.Item[string]) (string, store.Op) {
		if item != nil {
			return "", store.Keep
		}
		return "token-1", store.Write
	}
	first, _ := s.UpdateWithTTL("session", time.Hour, create)
	second, _ := s.UpdateWithTTL("session", time.Hour, func(item *store.Item[string]) (string, store.Op) {
		if item != nil {
			return "", store.Keep
		}
		return "token-2", store.Write
	})
	fmt.Println(first.Value, second.Value, first.ExpiresAt.Sub(first.LastModified))
	// Output: token-1 token-1 1h0m0s
}

// Keep, Write and Remove: a countdown that deletes its key when it reaches
// zero, and leaves an absent key absent.
func ExampleOp() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	countdown := func(item *store.Item[int]) (int, store.Op) {
		switch {
		case item == nil:
			return 0, store.Keep
		case item.Value <= 1:
			return 0, store.Remove
		}
		return item.Value - 1, store.Write
	}
	_ = s.Set("tries", 2)
	for range 3 {
		item, err := s.Update("tries", countdown)
		if item == nil {
			fmt.Println("none left", err)
			continue
		}
		fmt.Println(item.Value, err)
	}
	// Output:
	// 1 <nil>
	// none left <nil>
	// none left <nil>
}

func ExampleErrUpdatePanicked() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.Set("n", 1)
	_, err := s.Update("n", func(item *store.Item[int]) (int, store.Op) {
		if item.Value < 10 {
			panic("too small") // recovered on the owner, which goes on
		}
		return item.Value / 10, store.Write
	})
	item, _ := s.Get("n")
	fmt.Println(errors.Is(err, store.ErrUpdatePanicked), item.Value)
	fmt.Println(err)
	// Output:
	// true 1
	// lastmodstore: Update's function panicked: too small
}

func ExampleErrUpdateReentry() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	var inner error
	_, err := s.Update("a", func(*store.Item[int]) (int, store.Op) {
		_, inner = s.Get("b") // would wait for this very Update
		return 1, store.Write
	})
	item, _ := s.Get("a")
	fmt.Println(inner, err, item.Value)
	// Output: lastmodstore: call into the store from inside an Update's function <nil> 1
}
