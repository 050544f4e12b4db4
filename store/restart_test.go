package store

import (
	"context"
	"errors"
	"testing"

	"github.com/lastmodstore/lastmodstore/messages"
)

// poison makes the owner panic: the key is a slice in an interface, which
// the public methods refuse (ErrInvalidKey) but call passes straight on.
func poison(s *Store[any, int]) error {
	_, err := s.call(&messages.Request[any, int]{Op: messages.OpGet, Key: []int{1}})
	return err
}

func TestOwnerPanicIsRestartedWithItsState(t *testing.T) {
	s, err := New[any, int](Config{}, WithRestartLimit[any, int](3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if err := s.Set("kept", 1); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := poison(s); !errors.Is(err, ErrPanicked) {
			t.Fatalf("poisoned request: got %v, want ErrPanicked", err)
		}
		item, err := s.Get("kept")
		if err != nil || item.Value != 1 {
			t.Fatalf("after a restart: got %v, %v; want the item kept", item, err)
		}
	}
	if !s.IsRunning() {
		t.Fatal("the store stopped within its restart limit")
	}
}

func TestTooManyRestartsStopTheStoreWithAReason(t *testing.T) {
	s, err := New[any, int](Config{}, WithRestartLimit[any, int](2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("kept", 1); err != nil {
		t.Fatal(err)
	}
	r := s.current.Load()
	for range 3 {
		if err := poison(s); !errors.Is(err, ErrPanicked) {
			t.Fatalf("poisoned request: got %v, want ErrPanicked", err)
		}
	}
	<-r.finished // the store stops on its own
	if s.IsRunning() {
		t.Fatal("IsRunning after the actors gave up")
	}
	err = s.Shutdown()
	var pe *PanicError
	if !errors.Is(err, ErrTooManyRestarts) || !errors.As(err, &pe) || pe.Actor != "owner" {
		t.Fatalf("Shutdown: got %v, want ErrTooManyRestarts wrapping the owner's panic", err)
	}
	if !errors.Is(s.Err(), ErrTooManyRestarts) {
		t.Fatalf("Err: got %v", s.Err())
	}
	if err := s.Set("late", 2); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Set after the failure: got %v, want ErrNotRunning", err)
	}

	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if s.Err() != nil {
		t.Fatalf("Err after a new Start: got %v, want nil", s.Err())
	}
	if item, err := s.Get("kept"); err != nil || item.Value != 1 {
		t.Fatalf("after Start again: got %v, %v; want the item kept", item, err)
	}
}

func TestCallersInFlightWhenTheActorsGiveUpAllGetAnAnswer(t *testing.T) {
	for range 20 {
		s, err := New[any, int](Config{MailboxSize: 1}, WithRestartLimit[any, int](1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := s.current.Load()
		errs := make(chan error, 16)
		for i := range 16 {
			go func() {
				for {
					err := s.Set(i, i)
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for !errors.Is(poison(s), ErrNotRunning) { // poison until the actors give up
		}
		<-r.finished
		for range 16 {
			if err := <-errs; !errors.Is(err, ErrNotRunning) && !errors.Is(err, ErrPanicked) {
				t.Fatalf("a caller got %v, want ErrNotRunning or ErrPanicked", err)
			}
		}
		if !errors.Is(s.Shutdown(), ErrTooManyRestarts) {
			t.Fatal("Shutdown does not report the failure")
		}
	}
}
