package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// A watcher that was cut off resumes after the last event it received:
// the changes it missed come first, then the live ones.
func ExampleStore_WatchFrom() {
	s := started[int](store.Config{})
	defer s.Shutdown()

	_ = s.Set("a", 1) // revision 1
	lastSeen := uint64(1)
	_ = s.Set("b", 2) // 2, missed
	_ = s.Delete("a") // 3, missed

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, _ := s.WatchFrom(ctx, lastSeen)
	_ = s.Set("c", 3) // 4, live
	for range 3 {
		select {
		case ev := <-events:
			fmt.Println(ev.Revision, ev.Kind == store.EventPut, ev.Key)
		case <-time.After(time.Second):
			fmt.Println("no event within a second")
			return
		}
	}
	// Output:
	// 2 true b
	// 3 false a
	// 4 true c
}

// With a history of 2 changes, resuming from further back is refused with
// the oldest revision still kept.
func ExampleWithHistory() {
	s, _ := store.New[string, int](store.Config{}, store.WithHistory[string, int](2))
	_ = s.Start(context.Background())
	defer s.Shutdown()
	for i := range 5 {
		_ = s.Set("k", i) // revisions 1 to 5
	}

	_, err := s.WatchFrom(context.Background(), 1)
	var compacted *store.CompactedError
	if errors.As(err, &compacted) {
		fmt.Println(errors.Is(err, store.ErrCompacted), compacted.Oldest)
	}
	// Output: true 3
}
