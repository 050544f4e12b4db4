package mutexstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// The mutex design takes the same Config and options as the actor design
// and answers the same way: switching is a change of constructor.
func Example() {
	s, err := mutexstore.New[string, int](store.Config{MaxSize: 2})
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	defer s.Shutdown()

	_ = s.Set("a", 1)
	_ = s.Set("b", 2)
	fmt.Println(errors.Is(s.Set("c", 3), store.ErrStoreFull))

	item, _ := s.Get("a")
	_, err = s.CompareAndSet("a", 10, item.Revision)
	fmt.Println(err)
	_, err = s.CompareAndSet("a", 20, item.Revision)
	fmt.Println(errors.Is(err, store.ErrConflict))
	// Output:
	// true
	// <nil>
	// true
}

func ExampleNew() {
	evicted := make(chan string, 1)
	s, _ := mutexstore.New(store.Config{MaxSize: 1, Eviction: store.EvictOldest},
		store.WithOnEvict(func(key string, _ *store.Item[int], reason store.EvictReason) {
			evicted <- fmt.Sprint(key, " ", reason)
		}))
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.Set("first", 1)
	_ = s.Set("second", 2)
	select {
	case ev := <-evicted: // callbacks run on a callback worker, soon after
		fmt.Println(ev)
	case <-time.After(time.Second):
		fmt.Println("no eviction within a second")
	}
	// Output: first EvictCapacity
}

func ExampleStore_SetMany() {
	s, _ := mutexstore.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.SetMany(map[string]int{"a": 1, "b": 2}) // one lock for the batch
	items, _ := s.GetMany([]string{"a", "b", "c"})
	fmt.Println(len(items))
	// Output: 2
}

func ExampleStore_Stats() {
	s, _ := mutexstore.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.Set("a", 1)
	_, _ = s.Get("a")
	_, _ = s.Get("b")
	st, _ := s.Stats()
	fmt.Println(st.Writes, st.Hits, st.Misses)
	// Output: 1 1 1
}

func ExampleStore_Shutdown() {
	s, _ := mutexstore.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	_ = s.Set("kept", 1)
	_ = s.Shutdown()
	fmt.Println(s.Set("late", 2))

	_ = s.Start(context.Background())
	defer s.Shutdown()
	item, _ := s.Get("kept")
	fmt.Println(item.Value)
	// Output:
	// lastmodstore: not running
	// 1
}

// The conditional writes and deletes behave as the actor design's: a
// stale revision or time is a *store.ConflictError carrying the current
// one.
func ExampleStore_CompareAndDelete() {
	s, _ := mutexstore.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.Set("doc", "draft")
	read, _ := s.Get("doc")
	_, _ = s.SetIfUnmodifiedSince("doc", "edited", read.LastModified)

	err := s.CompareAndDelete("doc", read.Revision) // stale: someone edited it
	var conflict *store.ConflictError
	fmt.Println(errors.As(err, &conflict))
	fmt.Println(s.CompareAndDelete("doc", conflict.Revision))
	fmt.Println(errors.Is(s.DeleteIfUnmodifiedSince("doc", read.LastModified), store.ErrConflict))
	// Output:
	// true
	// <nil>
	// true
}
