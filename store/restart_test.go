package store

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
)

// poison makes the owner panic: the key is a slice in an interface, which
// the public methods refuse (ErrInvalidKey) but call passes straight on.
// It fails the test if the answer takes longer than hang.
func poison(t *testing.T, s *Store[any, int]) error {
	t.Helper()
	return bounded(t, "the answer to a poisoned request", func() error {
		_, err := s.call(&messages.Request[any, int]{Op: messages.OpGet, Key: []int{1}})
		return err
	})
}

// hang is how long a wait of these tests may last before it counts as a
// hang: generous, for -race on a busy machine, yet far below the global
// test timeout, so a test that would wait forever fails instead.
const hang = 30 * time.Second

// await returns the next value of ch, failing the test, with what it
// waited for, if none comes within hang.
func await[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(hang)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: still waiting after %v", what, hang)
		panic("unreachable") // Fatalf does not return
	}
}

// bounded returns what f returns, failing the test, with what it waited
// for, if f has not returned within hang: for a call that a fault could
// leave waiting forever.
func bounded[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return await(t, what, ch)
}

// until waits, yielding, until cond holds, failing the test, with what it
// waited for, if that takes longer than hang.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still waiting after %v", what, hang)
		}
		runtime.Gosched()
	}
}

func TestOwnerPanicIsRestartedWithItsState(t *testing.T) {
	s, err := New[any, int](Config{}, WithRestartLimit[any, int](3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer bounded(t, "Shutdown", s.Shutdown)
	if err := s.Set("kept", 1); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := poison(t, s); !errors.Is(err, ErrPanicked) {
			t.Fatalf("poisoned request: got %v, want ErrPanicked", err)
		}
		var item *Item[int]
		err := bounded(t, "a Get after the restart", func() (err error) { item, err = s.Get("kept"); return err })
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
		if err := poison(t, s); !errors.Is(err, ErrPanicked) {
			t.Fatalf("poisoned request: got %v, want ErrPanicked", err)
		}
	}
	await(t, "the store to stop on its own", r.finished)
	if s.IsRunning() {
		t.Fatal("IsRunning after the actors gave up")
	}
	err = bounded(t, "Shutdown", s.Shutdown)
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
	defer bounded(t, "Shutdown", s.Shutdown)
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
		until(t, "the actors to give up under poison", func() bool { return errors.Is(poison(t, s), ErrNotRunning) })
		await(t, "the store to stop after giving up", r.finished)
		for range 16 {
			if err := await(t, "a caller's answer", errs); !errors.Is(err, ErrNotRunning) && !errors.Is(err, ErrPanicked) {
				t.Fatalf("a caller got %v, want ErrNotRunning or ErrPanicked", err)
			}
		}
		if !errors.Is(bounded(t, "Shutdown", s.Shutdown), ErrTooManyRestarts) {
			t.Fatal("Shutdown does not report the failure")
		}
	}
}

func TestOwnerPanicWhileStoppingIsReportedAndEveryCallerAnswered(t *testing.T) {
	s, err := New[string, int](Config{MailboxSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	var sets atomic.Int32
	s.owner.InjectFault(func(op messages.Op) {
		if op != messages.OpSet {
			return
		}
		switch sets.Add(1) {
		case 1:
			<-hold // keep the owner busy while callers queue and the stop begins
		case 3:
			panic("boom while stopping")
		}
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := s.current.Load()
	errs := make(chan error, 5)
	for i := range 5 {
		go func() { errs <- s.Set(strconv.Itoa(i), i) }()
	}
	until(t, "one Set held by the owner and four queued", func() bool { return sets.Load() >= 1 && len(r.mailbox) >= 4 })
	stopped := make(chan error, 1)
	go func() { stopped <- s.Shutdown() }()
	until(t, "Shutdown to close the gate", r.gate.Closed)
	close(hold)

	err = await(t, "Shutdown", stopped)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "boom while stopping" {
		t.Fatalf("Shutdown: got %v, want the owner's panic", err)
	}
	counts := map[error]int{}
	for range 5 {
		counts[await(t, "a caller's answer", errs)]++
	}
	if counts[nil] != 2 || counts[ErrPanicked] != 1 || counts[ErrNotRunning] != 2 {
		t.Fatalf("callers got %v; want 2 written, 1 ErrPanicked, 2 ErrNotRunning (answered after the owner died)", counts)
	}
}

// TestAskGivesUpWithItsContext: an actor's request to an owner that will
// never answer (it died) returns when the actor is told to stop, whether
// it is still waiting to send or already waiting for the reply.
func TestAskGivesUpWithItsContext(t *testing.T) {
	s, err := New[string, int](Config{MailboxSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := s.newRun() // never started: nobody reads its mailbox
	reply := make(chan messages.Reply[string, int], 1)
	for _, name := range []string{"waiting for the reply", "waiting to send"} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := s.ask(ctx, r, &reply, &messages.Request[string, int]{Op: messages.OpSize})
			done <- err
		}()
		// The first ask fills the one-slot mailbox; the second cannot send.
		until(t, name+": a request in the mailbox", func() bool { return len(r.mailbox) > 0 })
		cancel()
		if err := await(t, name+": ask to give up", done); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: got %v, want context.Canceled", name, err)
		}
	}
	r.gate.Close()
	select {
	case <-r.gate.Drained():
	default:
		t.Fatal("ask left a caller inside the gate")
	}
}
