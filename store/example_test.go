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

// started returns a running store for the examples; stop it with Shutdown.
func started[V any](cfg store.Config, opts ...store.Option[string, V]) *store.Store[string, V] {
	s, err := store.New[string, V](cfg, opts...)
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	return s
}

func ExampleStore_Start() {
	s, _ := store.New[string, int](store.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	fmt.Println(s.Start(ctx), s.IsRunning())
	fmt.Println(s.Start(ctx))

	cancel() // stops the store gracefully, like Shutdown
	_ = s.Shutdown()
	fmt.Println(s.IsRunning())
	// Output:
	// <nil> true
	// lastmodstore: already running
	// false
}

func ExampleStore_Set() {
	s := started[string](store.Config{})
	defer s.Shutdown()

	_ = s.Set("config", "v1")
	v1, _ := s.Get("config")
	_ = s.Set("config", "v2")
	v2, _ := s.Get("config")
	fmt.Println(v1.Value, v2.Value, v2.Revision-v1.Revision)
	// Output: v1 v2 1
}

func ExampleStore_Delete() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("a", 1)
	fmt.Println(s.Delete("a"))
	fmt.Println(errors.Is(s.Delete("a"), store.ErrNotFound))
	// Output:
	// <nil>
	// true
}

func ExampleStore_Size() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("a", 1)
	_ = s.Set("b", 2)
	n, _ := s.Size()
	fmt.Println(n)
	// Output: 2
}

func ExampleStore_List() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("a", 1)
	_ = s.Set("b", 2)
	items, _ := s.List()
	fmt.Println(len(items), items["a"].Value, items["b"].Value)
	// Output: 2 1 2
}

func ExampleStore_Clear() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("a", 1)
	_ = s.Clear()
	n, _ := s.Size()
	fmt.Println(n)
	// Output: 0
}

func ExampleStore_CompareAndSet() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	// Revision 0 creates, only if the key is absent.
	item, _ := s.CompareAndSet("counter", 1, 0)

	// A read-modify-write that loses no update: retry on conflict.
	for range 100 {
		cur, _ := s.Get("counter")
		if _, err := s.CompareAndSet("counter", cur.Value+1, cur.Revision); err == nil {
			break
		}
	}

	_, err := s.CompareAndSet("counter", 100, item.Revision) // a stale revision
	var conflict *store.ConflictError
	fmt.Println(errors.Is(err, store.ErrConflict), errors.As(err, &conflict), conflict.Revision > item.Revision)
	now, _ := s.Get("counter")
	fmt.Println(now.Value)
	// Output:
	// true true true
	// 2
}

func ExampleStore_SetIfUnmodifiedSince() {
	s := started[string](store.Config{})
	defer s.Shutdown()

	_ = s.Set("doc", "draft")
	read, _ := s.Get("doc")

	// Someone else writes in between.
	_ = s.Set("doc", "their edit")

	_, err := s.SetIfUnmodifiedSince("doc", "my edit", read.LastModified)
	fmt.Println(errors.Is(err, store.ErrConflict))
	// Output: true
}

func ExampleStore_ModifiedSince() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("old", 1)
	mark, _ := s.Get("old")
	_ = s.Set("new", 2)

	changed, _ := s.ModifiedSince(mark.LastModified)
	for k := range changed {
		fmt.Println(k)
	}
	// Output: new
}

func ExampleStore_Watch() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	ctx, cancel := context.WithCancel(context.Background())
	events, _ := s.Watch(ctx)

	_ = s.Set("a", 1)
	_ = s.Delete("a")
	cancel()

	timeout := time.After(time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return // closed after its EventEnd
			}
			switch ev.Kind {
			case store.EventPut:
				fmt.Println("put", ev.Key, ev.Item.Value)
			case store.EventDelete:
				fmt.Println("delete", ev.Key)
			case store.EventEnd:
				fmt.Println("end:", ev.Err)
			}
		case <-timeout:
			fmt.Println("the watch has not ended a second after the cancel")
			return
		}
	}
	// Output:
	// put a 1
	// delete a
	// end: context canceled
}

func ExampleStore_GetMany() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.SetMany(map[string]int{"a": 1, "b": 2})
	items, _ := s.GetMany([]string{"a", "b", "missing"})
	fmt.Println(len(items), items["a"].Value, items["b"].Value)
	// Output: 2 1 2
}

func ExampleStore_SetMany() {
	s := started[int](store.Config{MaxSize: 2})
	defer s.Shutdown()

	_ = s.Set("a", 1)
	err := s.SetMany(map[string]int{"b": 2, "c": 3}) // two new keys, one slot
	n, _ := s.Size()
	fmt.Println(err, n) // all or nothing
	// Output: lastmodstore: store full 1
}

func ExampleWithOnEvict() {
	evicted := make(chan string, 1)
	s := started(store.Config{MaxSize: 1, Eviction: store.EvictOldest},
		store.WithOnEvict(func(key string, item *store.Item[int], reason store.EvictReason) {
			evicted <- fmt.Sprint(key, " ", reason)
		}))
	defer s.Shutdown()

	_ = s.Set("first", 1)
	_ = s.Set("second", 2) // no room: "first" is evicted
	select {
	case ev := <-evicted: // callbacks run on a cleanup actor, soon after
		fmt.Println(ev)
	case <-time.After(time.Second):
		fmt.Println("no eviction within a second")
	}
	// Output: first EvictCapacity
}

func ExampleStore_Stats() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("a", 1)
	_, _ = s.Get("a")
	_, _ = s.Get("b")
	st, _ := s.Stats()
	fmt.Println(st.Writes, st.Hits, st.Misses, st.Items)
	// Output: 1 1 1 1
}

func ExampleStore_All() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("b", 2)
	_ = s.Set("a", 1)
	for k, item := range s.All() { // oldest first
		fmt.Println(k, item.Value)
	}
	// Output:
	// b 2
	// a 1
}

func ExampleStore_Keys() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("x", 1)
	_ = s.Set("y", 2)
	for k := range s.Keys() {
		fmt.Println(k)
	}
	// Output:
	// x
	// y
}

func ExampleStore_Err() {
	s := started[int](store.Config{})
	_ = s.Shutdown()
	fmt.Println(s.Err()) // a graceful stop is no error
	// Output: <nil>
}

// With LockFreeReads, Get reads the index the owner publishes instead of
// waiting for the owner: reads scale with the cores that make them, while
// every write still goes through the owner, which publishes it before it
// replies.
func ExampleConfig_lockFreeReads() {
	s, _ := store.New[string, int](store.Config{LockFreeReads: true})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.Set("answer", 42)
	item, _ := s.Get("answer") // no message: atomic loads only
	fmt.Println(item.Value, item.Revision)
	_, err := s.Get("question")
	fmt.Println(err)
	st, _ := s.Stats()
	fmt.Println(st.Hits, st.Misses)
	// Output:
	// 42 1
	// lastmodstore: not found
	// 1 1
}

func ExampleStore_CompareAndDelete() {
	s := started[string](store.Config{})
	defer s.Shutdown()

	_ = s.Set("doc", "draft")
	read, _ := s.Get("doc")
	_ = s.Set("doc", "their edit") // someone else writes in between

	err := s.CompareAndDelete("doc", read.Revision) // deletes nothing
	var conflict *store.ConflictError
	fmt.Println(errors.As(err, &conflict), conflict.Revision > read.Revision)

	fmt.Println(s.CompareAndDelete("doc", conflict.Revision)) // still at that revision: deleted
	// Output:
	// true true
	// <nil>
}

func ExampleStore_DeleteIfUnmodifiedSince() {
	s := started[string](store.Config{})
	defer s.Shutdown()

	_ = s.Set("doc", "draft")
	read, _ := s.Get("doc")
	fmt.Println(s.DeleteIfUnmodifiedSince("doc", read.LastModified)) // unmodified since: deleted
	err := s.DeleteIfUnmodifiedSince("doc", read.LastModified)       // nothing left to delete
	fmt.Println(errors.Is(err, store.ErrConflict))
	// Output:
	// <nil>
	// true
}

func ExampleStore_IsRunning() {
	s, _ := store.New[string, int](store.Config{})
	fmt.Println(s.IsRunning())
	_ = s.Start(context.Background())
	fmt.Println(s.IsRunning())
	_ = s.Shutdown()
	fmt.Println(s.IsRunning())
	// Output:
	// false
	// true
	// false
}
