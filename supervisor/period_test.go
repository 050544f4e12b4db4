package supervisor_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/supervisor"
)

// failOnDemand is an actor that fails each time it receives from fail and
// otherwise waits for its context.
func failOnDemand(fail <-chan struct{}) supervisor.Actor {
	return supervisor.Actor{Name: "flaky", Run: func(ctx context.Context) error {
		select {
		case <-fail:
			return errBoom
		case <-ctx.Done():
			return nil
		}
	}}
}

// Restarts older than Period stop counting. The bubble's virtual clock makes
// the exact boundary testable: time.Sleep only advances fake time.
func TestRestartsOlderThanPeriodDoNotCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		const period = time.Minute
		fail := make(chan struct{})
		s := supervisor.New(supervisor.Options{MaxRestarts: 2, Period: period}, failOnDemand(fail))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()

		fail <- struct{}{}
		fail <- struct{}{}
		synctest.Wait()
		g.Expect(s.Restarts()).To(Equal(uint64(2)), "two restarts at t0 are within the limit")

		time.Sleep(period) // both restarts are now exactly one period old
		fail <- struct{}{}
		fail <- struct{}{}
		synctest.Wait()
		g.Expect(s.Restarts()).To(Equal(uint64(4)), "the old restarts no longer count")
		g.Expect(done).NotTo(Receive())

		cancel()
		g.Expect(<-done).To(Succeed())
		g.Expect(s.Restarts()).To(Equal(uint64(4)))
	})
}

// Restarts younger than Period still count, even by a nanosecond.
func TestRestartsWithinPeriodCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		const period = time.Minute
		fail := make(chan struct{})
		s := supervisor.New(supervisor.Options{MaxRestarts: 2, Period: period}, failOnDemand(fail))
		done := make(chan error, 1)
		go func() { done <- s.Run(context.Background()) }()

		fail <- struct{}{}
		time.Sleep(period / 2)
		fail <- struct{}{}
		synctest.Wait()
		g.Expect(s.Restarts()).To(Equal(uint64(2)))

		time.Sleep(period - period/2 - time.Nanosecond) // first restart is 1ns short of a period old
		fail <- struct{}{}
		err := <-done
		g.Expect(err).To(MatchError(supervisor.ErrTooManyRestarts))
		g.Expect(err).To(MatchError(errBoom))
		g.Expect(s.Restarts()).To(Equal(uint64(2)))
	})
}
