package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

func ExampleStore_GetOrLoad() {
	s, _ := store.New[string, string](store.Config{TTL: time.Minute})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	var loads atomic.Int32
	fetch := func(ctx context.Context, user string) (string, error) {
		loads.Add(1) // a slow backend, asked once per missing key
		return "profile of " + user, nil
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.GetOrLoad(context.Background(), "ada", fetch)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		fmt.Println("still loading after a second")
	}
	item, _ := s.GetOrLoad(context.Background(), "ada", fetch)
	fmt.Println(item.Value, loads.Load())

	_, err := s.GetOrLoad(context.Background(), "bob", func(context.Context, string) (string, error) {
		return "", errors.New("backend down")
	})
	_, getErr := s.Get("bob")
	fmt.Println(err, errors.Is(getErr, store.ErrNotFound))
	// Output:
	// profile of ada 1
	// backend down true
}

func ExampleStore_Touch() {
	s, _ := store.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.SetWithTTL("session", "token", time.Hour)
	written, _ := s.Get("session")
	touched, _ := s.Touch("session")
	fmt.Println(touched.Value, touched.Revision == written.Revision, touched.LastModified.Equal(written.LastModified),
		!touched.ExpiresAt.Before(written.ExpiresAt))

	_, err := s.Touch("gone")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// token true true true
	// true
}

func ExampleConfig_touchOnGet() {
	s, _ := store.New[string, string](store.Config{TTL: time.Hour, TouchOnGet: true})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.Set("session", "token")
	item, _ := s.Get("session") // every hit slides the expiry: an hour from now
	fmt.Println(item.Value, item.ExpiresAt.Sub(item.LastModified) >= time.Hour)

	_, err := store.New[string, string](store.Config{TouchOnGet: true, LockFreeReads: true})
	fmt.Println(errors.Is(err, store.ErrInvalidConfig))
	// Output:
	// token true
	// true
}
