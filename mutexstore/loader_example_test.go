package mutexstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

func ExampleStore_GetOrLoad() {
	s, _ := mutexstore.New[string, int](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	item, _ := s.GetOrLoad(context.Background(), "answer", func(context.Context, string) (int, error) { return 42, nil })
	again, _ := s.GetOrLoad(context.Background(), "answer", func(context.Context, string) (int, error) { return 0, nil })
	fmt.Println(item.Value, again.Value)
	// Output: 42 42
}

func ExampleStore_Touch() {
	s, _ := mutexstore.New[string, string](store.Config{})
	_ = s.Start(context.Background())
	defer s.Shutdown()

	_ = s.SetWithTTL("session", "token", time.Hour)
	written, _ := s.Get("session")
	touched, _ := s.Touch("session")
	fmt.Println(touched.Value, touched.Revision == written.Revision, !touched.ExpiresAt.Before(written.ExpiresAt))
	// Output: token true true
}
