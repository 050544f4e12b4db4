package lastmodhttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// serveStore serves a new store of strings under /kv/ of an httptest
// server, and returns a Client of it and a stop that closes the Client,
// the server and the store, in that order.
func serveStore(opts ...lastmodhttp.ClientOption) (*lastmodhttp.Client[string], func()) {
	s, err := store.New[string, string](store.Config{})
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/kv", lastmodhttp.New[string](s)))
	c, err := lastmodhttp.NewClient[string](srv.URL+"/kv/", opts...)
	if err != nil {
		panic(err)
	}
	return c, func() {
		_ = c.Close()
		srv.Close()
		_ = s.Shutdown()
	}
}

func ExampleNewClient() {
	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	srv := httptest.NewServer(http.StripPrefix("/kv", lastmodhttp.New[string](s)))
	defer srv.Close()

	c, err := lastmodhttp.NewClient[string](srv.URL + "/kv/")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_ = c.Set("greeting", "hello")
	item, _ := s.Get("greeting") // the store itself holds it
	fmt.Println(item.Value, item.Revision)

	_, err = lastmodhttp.NewClient[string]("localhost:8080/kv/")
	fmt.Println(errors.Is(err, store.ErrInvalidConfig))
	// Output:
	// hello 1
	// true
}

func ExampleClient_Close() {
	c, stop := serveStore()
	defer stop()
	events, _ := c.Watch(context.Background())
	_ = c.Close()
	for ev := range events { // Close ended the watch, and waited for it
		fmt.Println(ev.Kind == store.EventEnd, errors.Is(ev.Err, lastmodhttp.ErrClosed))
	}
	_, err := c.Get("k")
	fmt.Println(errors.Is(err, lastmodhttp.ErrClosed), errors.Is(err, store.ErrNotRunning))
	// Output:
	// true true
	// true true
}

func ExampleClient_Get() {
	c, stop := serveStore()
	defer stop()
	_ = c.SetWithTTL("greeting", "hello", time.Hour)
	item, _ := c.Get("greeting")
	fmt.Println(item.Value, item.Revision, item.ExpiresAt.Sub(item.LastModified))
	_, err := c.Get("missing")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// hello 1 1h0m0s
	// true
}

func ExampleClient_GetContext() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	item, err := c.GetContext(ctx, "k")
	fmt.Println(item.Value, err)

	cancel()
	_, err = c.GetContext(ctx, "k")
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// v <nil>
	// true
}

func ExampleClient_Set() {
	c, stop := serveStore()
	defer stop()
	fmt.Println(c.Set("k", "one"), c.Set("k", "two"))
	item, _ := c.Get("k")
	fmt.Println(item.Value, item.Revision)
	// Output:
	// <nil> <nil>
	// two 2
}

func ExampleClient_SetContext() {
	c, stop := serveStore()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fmt.Println(c.SetContext(ctx, "k", "v"))
	// Output: <nil>
}

func ExampleClient_SetWithTTL() {
	c, stop := serveStore()
	defer stop()
	_ = c.SetWithTTL("session", "token", 30*time.Minute)
	item, _ := c.Get("session")
	fmt.Println(item.ExpiresAt.Sub(item.LastModified))
	fmt.Println(errors.Is(c.SetWithTTL("session", "token", -time.Second), store.ErrInvalidTTL))
	// Output:
	// 30m0s
	// true
}

func ExampleClient_SetWithTTLContext() {
	c, stop := serveStore()
	defer stop()
	_ = c.SetWithTTLContext(context.Background(), "forever", "v", 0)
	item, _ := c.Get("forever")
	fmt.Println(item.ExpiresAt.IsZero())
	// Output: true
}

func ExampleClient_Delete() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	fmt.Println(c.Delete("k"))
	fmt.Println(errors.Is(c.Delete("k"), store.ErrNotFound))
	// Output:
	// <nil>
	// true
}

func ExampleClient_DeleteContext() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	fmt.Println(c.DeleteContext(context.Background(), "k"))
	// Output: <nil>
}

func ExampleClient_CompareAndSet() {
	c, stop := serveStore()
	defer stop()
	created, _ := c.CompareAndSet("k", "first", 0) // 0: create only
	fmt.Println(created.Value, created.Revision)
	// Two writers that both read revision 1: the second is refused and
	// told what the key holds now.
	won, _ := c.CompareAndSet("k", "mine", created.Revision)
	_, err := c.CompareAndSet("k", "theirs", created.Revision)
	var conflict *store.ConflictError
	fmt.Println(won.Revision, errors.As(err, &conflict), conflict.Revision)
	// Output:
	// first 1
	// 2 true 2
}

func ExampleClient_CompareAndSetContext() {
	c, stop := serveStore()
	defer stop()
	item, _ := c.CompareAndSetContext(context.Background(), "k", "v", 0)
	_, err := c.CompareAndSetContext(context.Background(), "k", "w", 0)
	fmt.Println(item.Revision, errors.Is(err, store.ErrConflict))
	// Output: 1 true
}

func ExampleClient_CompareAndDelete() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	read, _ := c.Get("k")
	_ = c.Set("k", "changed since")
	fmt.Println(errors.Is(c.CompareAndDelete("k", read.Revision), store.ErrConflict))
	current, _ := c.Get("k")
	fmt.Println(c.CompareAndDelete("k", current.Revision))
	// Output:
	// true
	// <nil>
}

func ExampleClient_CompareAndDeleteContext() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	fmt.Println(c.CompareAndDeleteContext(context.Background(), "k", 1))
	// Output: <nil>
}

func ExampleClient_SetIfUnmodifiedSince() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	read, _ := c.Get("k")
	item, _ := c.SetIfUnmodifiedSince("k", "w", read.LastModified) // to the nanosecond
	fmt.Println(item.Value)
	_, err := c.SetIfUnmodifiedSince("k", "x", read.LastModified)
	fmt.Println(errors.Is(err, store.ErrConflict))
	// Output:
	// w
	// true
}

func ExampleClient_SetIfUnmodifiedSinceContext() {
	c, stop := serveStore()
	defer stop()
	_, err := c.SetIfUnmodifiedSinceContext(context.Background(), "absent", "v", time.Now())
	var conflict *store.ConflictError
	fmt.Println(errors.As(err, &conflict), conflict.Revision)
	// Output: true 0
}

func ExampleClient_DeleteIfUnmodifiedSince() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	read, _ := c.Get("k")
	fmt.Println(errors.Is(c.DeleteIfUnmodifiedSince("k", read.LastModified.Add(-time.Nanosecond)), store.ErrConflict))
	fmt.Println(c.DeleteIfUnmodifiedSince("k", read.LastModified))
	// Output:
	// true
	// <nil>
}

func ExampleClient_DeleteIfUnmodifiedSinceContext() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	fmt.Println(c.DeleteIfUnmodifiedSinceContext(context.Background(), "k", time.Now().Add(time.Hour)))
	// Output: <nil>
}

func ExampleClient_GetMany() {
	c, stop := serveStore()
	defer stop()
	_ = c.SetMany(map[string]string{"a": "1", "b": "2"})
	items, _ := c.GetMany([]string{"a", "b", "missing"})
	fmt.Println(len(items), items["a"].Value, items["b"].Value)
	// Output: 2 1 2
}

func ExampleClient_GetManyContext() {
	c, stop := serveStore()
	defer stop()
	items, err := c.GetManyContext(context.Background(), nil)
	fmt.Println(len(items), err)
	// Output: 0 <nil>
}

func ExampleClient_SetMany() {
	c, stop := serveStore()
	defer stop()
	fmt.Println(c.SetMany(map[string]string{"a": "1", "b": "2", "c": "3"}))
	n, _ := c.Size()
	fmt.Println(n)
	// Output:
	// <nil>
	// 3
}

func ExampleClient_SetManyContext() {
	c, stop := serveStore()
	defer stop()
	err := c.SetManyContext(context.Background(), map[string]string{"": "the root is no key"})
	fmt.Println(errors.Is(err, store.ErrInvalidKey))
	// Output: true
}

func ExampleClient_List() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("a", "1")
	_ = c.Set("b", "2")
	items, _ := c.List()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range items {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Println(k, items[k].Value, items[k].Revision)
	}
	// Output:
	// a 1 1
	// b 2 2
}

func ExampleClient_ListContext() {
	c, stop := serveStore()
	defer stop()
	items, err := c.ListContext(context.Background())
	fmt.Println(len(items), err)
	// Output: 0 <nil>
}

func ExampleClient_ModifiedSince() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("old", "1")
	old, _ := c.Get("old")
	_ = c.Set("new", "2")
	items, _ := c.ModifiedSince(old.LastModified) // after it, to the nanosecond
	for k := range items {
		fmt.Println(k)
	}
	// Output: new
}

func ExampleClient_ModifiedSinceContext() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("k", "v")
	items, _ := c.ModifiedSinceContext(context.Background(), time.Time{})
	fmt.Println(len(items))
	// Output: 1
}

func ExampleClient_Size() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("a", "1")
	_ = c.Set("b", "2")
	n, _ := c.Size()
	fmt.Println(n)
	// Output: 2
}

func ExampleClient_SizeContext() {
	c, stop := serveStore()
	defer stop()
	n, err := c.SizeContext(context.Background())
	fmt.Println(n, err)
	// Output: 0 <nil>
}

func ExampleClient_Stats() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("a", "1")
	_, _ = c.GetMany([]string{"a", "missing"})
	st, _ := c.Stats()
	// The PUT read "a" before it wrote it: one miss more than the
	// client's own lookups.
	fmt.Println(st.Writes, st.Items, st.Hits, st.Misses)
	// Output: 1 1 1 2
}

func ExampleClient_StatsContext() {
	c, stop := serveStore()
	defer stop()
	st, err := c.StatsContext(context.Background())
	fmt.Println(st.Items, err)
	// Output: 0 <nil>
}

func ExampleClient_Clear() {
	c, stop := serveStore()
	defer stop()
	_ = c.SetMany(map[string]string{"a": "1", "b": "2"})
	fmt.Println(c.Clear())
	n, _ := c.Size()
	fmt.Println(n)
	// Output:
	// <nil>
	// 0
}

func ExampleClient_ClearContext() {
	c, stop := serveStore()
	defer stop()
	fmt.Println(c.ClearContext(context.Background()))
	// Output: <nil>
}

func ExampleClient_Update() {
	c, stop := serveStore()
	defer stop()
	// Append to a value without losing another client's append: the
	// write is conditional on the revision f was given.
	appendX := func(item *store.Item[string]) (string, store.Op) {
		if item == nil {
			return "x", store.Write
		}
		return item.Value + "x", store.Write
	}
	for range 3 {
		_, _ = c.Update("k", appendX)
	}
	item, _ := c.Get("k")
	fmt.Println(item.Value)
	removed, _ := c.Update("k", func(*store.Item[string]) (string, store.Op) { return "", store.Remove })
	fmt.Println(removed)
	// Output:
	// xxx
	// <nil>
}

func ExampleClient_UpdateContext() {
	c, stop := serveStore()
	defer stop()
	_, err := c.UpdateContext(context.Background(), "k", func(*store.Item[string]) (string, store.Op) {
		panic("bad input")
	})
	fmt.Println(errors.Is(err, store.ErrUpdatePanicked))
	// Output: true
}

func ExampleClient_UpdateWithTTL() {
	c, stop := serveStore()
	defer stop()
	item, _ := c.UpdateWithTTL("lease", time.Minute, func(*store.Item[string]) (string, store.Op) {
		return "mine", store.Write
	})
	fmt.Println(item.Value, item.ExpiresAt.Sub(item.LastModified))
	// Output: mine 1m0s
}

func ExampleClient_UpdateWithTTLContext() {
	c, stop := serveStore()
	defer stop()
	_, err := c.UpdateWithTTLContext(context.Background(), "k", -time.Second, func(*store.Item[string]) (string, store.Op) {
		return "", store.Write
	})
	fmt.Println(errors.Is(err, store.ErrInvalidTTL))
	// Output: true
}

func ExampleClient_All() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("b", "1")
	_ = c.Set("a", "2")
	for k, item := range c.All() { // oldest first
		fmt.Println(k, item.Value)
	}
	// Output:
	// b 1
	// a 2
}

func ExampleClient_Keys() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("b", "1")
	_ = c.Set("a", "2")
	fmt.Println(slices.Collect(c.Keys()))
	// Output: [b a]
}

func ExampleClient_Watch() {
	c, stop := serveStore()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	events, _ := c.Watch(ctx)
	_ = c.Set("a", "1")
	_ = c.Delete("a")
	for range 2 {
		ev := <-events
		fmt.Println(ev.Revision, ev.Kind == store.EventPut, ev.Key, ev.Item.Value)
	}
	cancel()
	for ev := range events {
		fmt.Println(errors.Is(ev.Err, context.Canceled))
	}
	// Output:
	// 1 true a 1
	// 2 false a 1
	// true
}

func ExampleClient_WatchFrom() {
	c, stop := serveStore()
	defer stop()
	_ = c.Set("a", "1")
	_ = c.Set("b", "2")
	_ = c.Set("c", "3")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, _ := c.WatchFrom(ctx, 1) // it had seen revision 1
	for range 2 {
		ev := <-events
		fmt.Println(ev.Revision, ev.Key)
	}
	_, err := c.WatchFrom(ctx, 99)
	fmt.Println(errors.Is(err, store.ErrFutureRevision))
	// Output:
	// 2 b
	// 3 c
	// true
}

func ExampleWithHTTPClient() {
	c, stop := serveStore(lastmodhttp.WithHTTPClient(&http.Client{Transport: http.DefaultTransport}))
	defer stop()
	fmt.Println(c.Set("k", "v"))
	// Output: <nil>
}

func ExampleWithClientCodec() {
	// Values as plain text: the server's handler must have the same
	// codec (WithCodec).
	text := lastmodhttp.Codec{
		ContentType: "text/plain; charset=utf-8",
		Marshal:     func(v any) ([]byte, error) { return []byte(v.(string)), nil },
		Unmarshal: func(b []byte, v any) error {
			*(v.(*string)) = string(b)
			return nil
		},
	}
	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()
	srv := httptest.NewServer(http.StripPrefix("/kv", lastmodhttp.New[string](s, lastmodhttp.WithCodec(text))))
	defer srv.Close()
	c, _ := lastmodhttp.NewClient[string](srv.URL+"/kv/", lastmodhttp.WithClientCodec(text))
	defer c.Close()

	_ = c.Set("k", "plain words")
	resp, err := http.Get(srv.URL + "/kv/k")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Header.Get("Content-Type"))
	item, _ := c.Get("k")
	fmt.Println(item.Value)
	// Output:
	// text/plain; charset=utf-8
	// plain words
}

func ExampleWithTimeout() {
	stalled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stalled:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(stalled)
	c, _ := lastmodhttp.NewClient[string](srv.URL+"/kv/", lastmodhttp.WithTimeout(10*time.Millisecond))
	defer c.Close()
	_, err := c.Get("k")
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

func ExampleWithMaxResponseBytes() {
	c, stop := serveStore(lastmodhttp.WithMaxResponseBytes(16))
	defer stop()
	_ = c.Set("k", strings.Repeat("long ", 10))
	_, err := c.Get("k")
	fmt.Println(errors.Is(err, lastmodhttp.ErrBadResponse))
	// Output: true
}

func ExampleStatusError() {
	// Not a lastmodhttp handler: its 404 is no store's answer.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c, _ := lastmodhttp.NewClient[string](srv.URL + "/kv/")
	defer c.Close()
	_, err := c.Get("k")
	var se *lastmodhttp.StatusError
	fmt.Println(errors.As(err, &se), se.StatusCode, errors.Is(err, store.ErrNotFound))
	fmt.Println(err)
	// Output:
	// true 404 false
	// lastmodhttp: unexpected answer 404 Not Found: 404 page not found
}
