package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// The examples run against an embedded single-member cluster the test
// binary starts (sharedEndpoints); in a program the endpoints are your
// cluster's.

func sharedEndpoints() []string {
	cli, err := sharedClient()
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	return cli.Endpoints()
}

var examplePrefixes int

// exampleStore returns a started store of its own prefix, and what stops
// it and closes its client.
func exampleStore() (*etcdstore.Store[int], func()) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: sharedEndpoints()})
	if err != nil {
		log.Fatal(err)
	}
	examplePrefixes++
	s, err := etcdstore.New[int](cli, etcdstore.Config{Prefix: fmt.Sprintf("example/%d/", examplePrefixes)})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	return s, func() {
		_ = s.Shutdown()
		_ = cli.Close()
	}
}

// A store over etcd is used like the in-process one: only its constructor
// differs.
func ExampleNew() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: sharedEndpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close() // the client is the caller's: Shutdown leaves it open

	s, err := etcdstore.New[string](cli, etcdstore.Config{Prefix: "example/new/", RequestTimeout: 2 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer s.Shutdown()

	if err := s.Set("greeting", "hello"); err != nil {
		log.Fatal(err)
	}
	item, err := s.Get("greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(item.Value, item.Revision > 0, !item.LastModified.IsZero())
	// Output: hello true true
}

func ExampleNew_badConfig() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: sharedEndpoints()})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	_, err = etcdstore.New[int](cli, etcdstore.Config{})
	fmt.Println(errors.Is(err, store.ErrInvalidConfig), err)
	_, err = etcdstore.New[int](cli, etcdstore.Config{Prefix: "p/", MaxSize: 100})
	fmt.Println(errors.Is(err, store.ErrInvalidConfig))
	// Output:
	// true lastmodstore: invalid config: Prefix is empty
	// true
}

func ExampleStore_Start() {
	s, stop := exampleStore()
	defer stop()
	fmt.Println(s.IsRunning(), s.Start(context.Background()))
	_ = s.Shutdown()
	fmt.Println(s.IsRunning(), s.Set("k", 1))
	// Output:
	// true lastmodstore: already running
	// false lastmodstore: not running
}

func ExampleStore_Set() {
	s, stop := exampleStore()
	defer stop()
	_ = s.Set("k", 1)
	first, _ := s.Get("k")
	_ = s.Set("k", 2)
	second, _ := s.Get("k")
	fmt.Println(second.Value, second.Revision > first.Revision, second.LastModified.After(first.LastModified))
	// Output: 2 true true
}

func ExampleStore_SetWithTTL() {
	s, stop := exampleStore()
	defer stop()
	// Hidden from reads at ExpiresAt; removed by the cluster when its
	// lease, shared with the items that expire in the same second, runs out.
	_ = s.SetWithTTL("session", 7, time.Hour)
	item, _ := s.Get("session")
	fmt.Println(item.Value, item.ExpiresAt.Sub(item.LastModified))
	fmt.Println(s.SetWithTTL("session", 7, -time.Second))
	// Output:
	// 7 1h0m0s
	// lastmodstore: invalid ttl
}

func ExampleStore_Shutdown() {
	s, stop := exampleStore()
	defer stop()
	_ = s.Set("kept", 1)
	_ = s.Shutdown()
	fmt.Println(s.Set("late", 2))
	_ = s.Start(context.Background()) // the items live in the cluster
	item, _ := s.Get("kept")
	fmt.Println(item.Value)
	// Output:
	// lastmodstore: not running
	// 1
}

func ExampleStore_Err() {
	s, stop := exampleStore()
	defer stop()
	fmt.Println(s.Err()) // nothing in a store over etcd stops on its own
	// Output: <nil>
}

func ExampleStore_Get() {
	s, stop := exampleStore()
	defer stop()
	_, err := s.Get("missing")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output: true
}

func ExampleStore_Delete() {
	s, stop := exampleStore()
	defer stop()
	_ = s.Set("k", 1)
	fmt.Println(s.Delete("k"))
	fmt.Println(s.Delete("k"))
	// Output:
	// <nil>
	// lastmodstore: not found
}

func ExampleStore_Size() {
	s, stop := exampleStore()
	defer stop()
	_ = s.SetMany(map[string]int{"a": 1, "b": 2})
	n, _ := s.Size()
	fmt.Println(n)
	// Output: 2
}

func ExampleStore_List() {
	s, stop := exampleStore()
	defer stop()
	_ = s.SetMany(map[string]int{"a": 1, "b": 2})
	m, _ := s.List()
	fmt.Println(m["a"].Value, m["b"].Value)
	// Output: 1 2
}

func ExampleStore_Clear() {
	s, stop := exampleStore()
	defer stop()
	_ = s.SetMany(map[string]int{"a": 1, "b": 2})
	_ = s.Clear()
	n, _ := s.Size()
	fmt.Println(n)
	// Output: 0
}

// CompareAndSet is optimistic concurrency across processes: read, change,
// write back only if nobody wrote in between.
func ExampleStore_CompareAndSet() {
	s, stop := exampleStore()
	defer stop()
	created, _ := s.CompareAndSet("counter", 1, 0) // 0: create only
	_, err := s.CompareAndSet("counter", 1, 0)
	fmt.Println(errors.Is(err, store.ErrConflict))

	updated, _ := s.CompareAndSet("counter", created.Value+1, created.Revision)
	_, err = s.CompareAndSet("counter", 99, created.Revision) // stale
	var conflict *store.ConflictError
	fmt.Println(updated.Value, errors.As(err, &conflict) && conflict.Revision == updated.Revision)
	// Output:
	// true
	// 2 true
}

func ExampleStore_SetIfUnmodifiedSince() {
	s, stop := exampleStore()
	defer stop()
	_ = s.Set("doc", 1)
	read, _ := s.Get("doc")
	_, err := s.SetIfUnmodifiedSince("doc", 2, read.LastModified)
	fmt.Println(err)
	_, err = s.SetIfUnmodifiedSince("doc", 3, read.LastModified) // doc changed since
	fmt.Println(errors.Is(err, store.ErrConflict))
	// Output:
	// <nil>
	// true
}

func ExampleStore_CompareAndDelete() {
	s, stop := exampleStore()
	defer stop()
	_ = s.Set("k", 1)
	item, _ := s.Get("k")
	_ = s.Set("k", 2)
	fmt.Println(errors.Is(s.CompareAndDelete("k", item.Revision), store.ErrConflict))
	item, _ = s.Get("k")
	fmt.Println(s.CompareAndDelete("k", item.Revision))
	// Output:
	// true
	// <nil>
}

func ExampleStore_DeleteIfUnmodifiedSince() {
	s, stop := exampleStore()
	defer stop()
	_ = s.Set("k", 1)
	item, _ := s.Get("k")
	fmt.Println(s.DeleteIfUnmodifiedSince("k", item.LastModified))
	err := s.DeleteIfUnmodifiedSince("k", item.LastModified)
	var conflict *store.ConflictError
	fmt.Println(errors.As(err, &conflict), conflict.Revision) // absent: revision 0
	// Output:
	// <nil>
	// true 0
}

func ExampleStore_GetMany() {
	s, stop := exampleStore()
	defer stop()
	_ = s.SetMany(map[string]int{"a": 1, "b": 2})
	m, _ := s.GetMany([]string{"a", "b", "missing"})
	fmt.Println(len(m), m["a"].Value, m["b"].Value)
	// Output: 2 1 2
}

func ExampleStore_SetMany() {
	s, stop := exampleStore()
	defer stop()
	_ = s.SetMany(map[string]int{"a": 1, "b": 2}) // one transaction: all or nothing
	m, _ := s.GetMany([]string{"a", "b"})
	fmt.Println(m["a"].Revision == m["b"].Revision)
	// Output: true
}

func ExampleStore_ModifiedSince() {
	s, stop := exampleStore()
	defer stop()
	_ = s.Set("old", 1)
	old, _ := s.Get("old")
	_ = s.Set("new", 2)
	m, _ := s.ModifiedSince(old.LastModified)
	fmt.Println(len(m), m["new"].Value)
	// Output: 1 2
}

// awaitEvent returns the next event of events, or false, having printed
// what it waited for, if none comes within 30 s: the cluster is another
// process, and a program bounds its waits on it.
func awaitEvent(events <-chan store.Event[string, int], what string) (store.Event[string, int], bool) {
	select {
	case ev := <-events:
		return ev, true
	case <-time.After(30 * time.Second):
		fmt.Println("no", what, "within 30s")
		return store.Event[string, int]{}, false
	}
}

func ExampleStore_Watch() {
	s, stop := exampleStore()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, _ := s.Watch(ctx)
	_ = s.Set("k", 1)
	_ = s.Delete("k")
	for range 2 {
		ev, ok := awaitEvent(events, "change")
		if !ok {
			return
		}
		fmt.Println(ev.Kind == store.EventPut, ev.Key, ev.Item.Value)
	}
	cancel()
	end, ok := awaitEvent(events, "end after the cancel")
	if !ok {
		return
	}
	fmt.Println(end.Kind == store.EventEnd, end.Err)
	// Output:
	// true k 1
	// false k 1
	// true context canceled
}

// A watcher that was cut off resumes after the revision of the last event
// it received: what it missed comes first, then the live changes.
func ExampleStore_WatchFrom() {
	s, stop := exampleStore()
	defer stop()
	seen, _ := s.CompareAndSet("a", 1, 0)
	_ = s.Set("b", 2) // missed
	_ = s.Delete("a") // missed
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, _ := s.WatchFrom(ctx, seen.Revision)
	_ = s.Set("c", 3)
	for range 3 {
		ev, ok := awaitEvent(events, "change")
		if !ok {
			return
		}
		fmt.Println(ev.Kind == store.EventPut, ev.Key, ev.Revision > seen.Revision)
	}
	// Output:
	// true b true
	// false a true
	// true c true
}

func ExampleStore_Stats() {
	s, stop := exampleStore()
	defer stop()
	_ = s.Set("k", 1)
	_, _ = s.Get("k")
	_, _ = s.Get("missing")
	st, _ := s.Stats()
	fmt.Println(st.Writes, st.Hits, st.Misses, st.Items)
	// Output: 1 1 1 1
}

func ExampleStore_All() {
	s, stop := exampleStore()
	defer stop()
	for _, k := range []string{"b", "a", "c"} {
		_ = s.Set(k, 1)
	}
	for k := range s.All() { // oldest first
		fmt.Print(k, " ")
	}
	fmt.Println()
	// Output: b a c
}

func ExampleStore_Keys() {
	s, stop := exampleStore()
	defer stop()
	_ = s.SetMany(map[string]int{"b": 1, "a": 1})
	keys := slices.Collect(s.Keys())
	sort.Strings(keys)
	fmt.Println(keys)
	// Output: [a b]
}

func ExampleWithCodec() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: sharedEndpoints()})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	s, _ := etcdstore.New[int](cli, etcdstore.Config{Prefix: "example/codec/"}, etcdstore.WithCodec[int](decimal{}))
	_ = s.Start(context.Background())
	defer s.Shutdown()
	_ = s.Set("k", 42)
	item, _ := s.Get("k")
	fmt.Println(item.Value)
	// Output: 42
}

func ExampleStore_IsRunning() {
	s, stop := exampleStore()
	defer stop()
	fmt.Println(s.IsRunning())
	_ = s.Shutdown()
	fmt.Println(s.IsRunning())
	// Output:
	// true
	// false
}

func ExampleJSON() {
	b, _ := etcdstore.JSON[map[string]int]().Encode(map[string]int{"a": 1})
	v, _ := etcdstore.JSON[map[string]int]().Decode(b)
	fmt.Println(string(b), v["a"])
	// Output: {"a":1} 1
}

// A watcher that may fall far behind gets a bigger buffer; past it, its
// watch ends with ErrWatchLagging rather than hold anything up.
func ExampleWithWatchBuffer() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: sharedEndpoints()})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	_, err = etcdstore.New[int](cli, etcdstore.Config{Prefix: "example/buffer/"}, etcdstore.WithWatchBuffer[int](0))
	fmt.Println(errors.Is(err, store.ErrInvalidConfig))
	s, _ := etcdstore.New[int](cli, etcdstore.Config{Prefix: "example/buffer/"}, etcdstore.WithWatchBuffer[int](1<<16))
	fmt.Println(s != nil)
	// Output:
	// true
	// true
}
