package mutexstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// An increment in one step, under the write lock: no retries, however many
// goroutines increment at once.
func ExampleStore_Update() {
	s, _ := mutexstore.New[string, int](store.Config{})
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
	fmt.Println(item.Value)

	_, err := s.Update("hits", func(*store.Item[int]) (int, store.Op) { panic("boom") })
	item, _ = s.Get("hits")
	fmt.Println(errors.Is(err, store.ErrUpdatePanicked), item.Value)
	// Output:
	// 800
	// true 800
}

func ExampleStore_UpdateWithTTL() {
	s, _ := mutexstore.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	createOnce := func(value string) func(*store.Item[string]) (string, store.Op) {
		return func(item *store.Item[string]) (string, store.Op) {
			if item != nil {
				return "", store.Keep
			}
			return value, store.Write
		}
	}
	first, _ := s.UpdateWithTTL("session", time.Hour, createOnce("token-1"))
	second, _ := s.UpdateWithTTL("session", time.Hour, createOnce("token-2"))
	fmt.Println(first.Value, second.Value, first.ExpiresAt.Sub(first.LastModified))
	// Output: token-1 token-1 1h0m0s
}
