package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

func Example() {
	s, err := store.New[string, int](store.Config{MaxSize: 1000})
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	defer s.Shutdown()

	_ = s.Set("answer", 41)
	first, _ := s.Get("answer")
	_ = s.Set("answer", 42)
	second, _ := s.Get("answer")

	fmt.Println(second.Value, second.Revision > first.Revision, second.LastModified.After(first.LastModified))
	// Output: 42 true true
}

func ExampleStore_SetWithTTL() {
	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.SetWithTTL("session", "token", time.Hour)
	item, _ := s.Get("session")
	fmt.Println(item.Value, item.ExpiresAt.Sub(item.LastModified))
	// Output: token 1h0m0s
}

func ExampleStore_Get() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_, err := s.Get("missing")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output: true
}

func ExampleStore_Shutdown() {
	s, _ := store.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	_ = s.Set("kept", 1)

	_ = s.Shutdown()
	fmt.Println(s.Set("late", 2))

	_ = s.Start(context.Background()) // the items outlive the goroutines
	defer s.Shutdown()
	item, _ := s.Get("kept")
	fmt.Println(item.Value)
	// Output:
	// lastmodstore: not running
	// 1
}

func ExampleNewLastModifiedStore() {
	s, err := store.NewLastModifiedStore(store.Config{MaxSize: 2})
	if err != nil {
		panic(err)
	}
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.Set("a", "any value")
	_ = s.Set("b", 2)
	fmt.Println(s.Set("c", 3.0))
	// Output: lastmodstore: store full
}
