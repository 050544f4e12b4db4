package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/lastmodstore/lastmodstore/messages"
	"github.com/lastmodstore/lastmodstore/store"
)

// TestOwnerPanicEndingALoadAnswersItsWaiters makes the owner panic as it
// handles a load's end: the loader and the caller parked behind it get
// ErrPanicked, the key is not left loading (the next caller loads again),
// and the restarted owner goes on.
func TestOwnerPanicEndingALoadAnswersItsWaiters(t *testing.T) {
	asked := make(chan struct{}, 2)
	var panicked atomic.Bool
	s := faultNewActor(t, store.Config{}, func(op messages.Op) {
		switch op {
		case messages.OpGetOrLoad:
			asked <- struct{}{}
		case messages.OpLoaded:
			if panicked.CompareAndSwap(false, true) {
				panic("owner fault")
			}
		}
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Shutdown() }()

	release := make(chan struct{})
	load := func(context.Context, string) (int, error) { <-release; return 1, nil }
	results := make(chan error, 2)
	call := func() {
		_, err := s.GetOrLoad(context.Background(), "k", load)
		results <- err
	}
	go call()
	faultAwait(t, "the loader asks", asked)
	go call()
	faultAwait(t, "the waiter asks", asked) // handled before the loader's report, which queues behind it
	close(release)
	for range 2 {
		var err error
		faultAwait(t, "an answer", chanDone(results, &err))
		if !errors.Is(err, store.ErrPanicked) {
			t.Fatalf("GetOrLoad: %v, want ErrPanicked", err)
		}
	}
	var item *store.Item[int]
	var err error
	faultAwait(t, "a GetOrLoad after the fault", faultCall(func() {
		item, err = s.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) { return 2, nil })
	}))
	if err != nil || item.Value != 2 {
		t.Fatalf("GetOrLoad after the fault: %v, %v; want a new load's 2", item, err)
	}
}

// chanDone receives one value of ch into *v, closing the channel returned.
func chanDone[T any](ch <-chan T, v *T) <-chan struct{} {
	done := make(chan struct{})
	go func() { *v = <-ch; close(done) }()
	return done
}
