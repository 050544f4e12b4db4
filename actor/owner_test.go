package actor

import (
	"context"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("Owner", func() {
	var leaks goleak.Option
	BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(leaks)).To(Succeed()) })

	type req = messages.Request[any, int]
	type rep = messages.Reply[any, int]

	// start runs an owner on its own goroutine and returns a way to stop it
	// that waits for Run to return, and Run's result.
	start := func(o *Owner[any, int], mailbox chan req) (stop func() error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- &panicked{r}
				}
			}()
			done <- o.Run(ctx, mailbox)
		}()
		return func() error { cancel(); return <-done }
	}
	ask := func(mailbox chan req, r req) rep {
		reply := make(chan rep, 1)
		r.Reply = reply
		mailbox <- r
		return <-reply
	}

	It("serves requests from its mailbox", func() {
		o := NewOwner[any, int](Config{})
		mailbox := make(chan req)
		stop := start(o, mailbox)
		Expect(ask(mailbox, req{Op: messages.OpSet, Key: "a", Value: 1}).Status).To(Equal(messages.StatusOK))
		got := ask(mailbox, req{Op: messages.OpGet, Key: "a"})
		Expect(got.Status).To(Equal(messages.StatusOK))
		Expect(got.Item.Value).To(Equal(1))
		Expect(ask(mailbox, req{Op: messages.OpSize}).N).To(Equal(1))
		args := &messages.Args[any, int]{}
		ask(mailbox, req{Op: messages.OpList, Args: args})
		Expect(args.Entries).To(HaveLen(1))
		Expect(ask(mailbox, req{Op: messages.OpDelete, Key: "a"}).Status).To(Equal(messages.StatusOK))
		Expect(ask(mailbox, req{Op: messages.OpDelete, Key: "a"}).Status).To(Equal(messages.StatusNotFound))
		Expect(ask(mailbox, req{Op: messages.OpGet, Key: "a"}).Status).To(Equal(messages.StatusNotFound))
		Expect(ask(mailbox, req{Op: messages.OpClear}).Status).To(Equal(messages.StatusOK))
		Expect(ask(mailbox, req{Op: messages.OpSweep, Limit: 10}).N).To(BeZero())
		Expect(stop()).To(Succeed())
	})

	It("answers StatusFull for a new key that does not fit", func() {
		o := NewOwner[any, int](Config{MaxSize: 1})
		mailbox := make(chan req)
		stop := start(o, mailbox)
		ask(mailbox, req{Op: messages.OpSet, Key: "a"})
		Expect(ask(mailbox, req{Op: messages.OpSet, Key: "b"}).Status).To(Equal(messages.StatusFull))
		Expect(stop()).To(Succeed())
	})

	It("answers everything left in the mailbox before it returns", func() {
		o := NewOwner[any, int](Config{})
		mailbox := make(chan req, 100)
		replies := make(chan rep, 100)
		for i := range 100 {
			mailbox <- req{Op: messages.OpSet, Key: i, Value: i, Reply: replies}
		}
		stop := start(o, mailbox)
		Expect(stop()).To(Succeed())
		Expect(replies).To(HaveLen(100))
		Expect(o.table.items).To(HaveLen(100))
	})

	It("answers the request in hand when it panics and keeps its state", func() {
		o := NewOwner[any, int](Config{})
		mailbox := make(chan req)
		stop := start(o, mailbox)
		ask(mailbox, req{Op: messages.OpSet, Key: "kept", Value: 7})
		// A slice in an interface key makes the map panic.
		Expect(ask(mailbox, req{Op: messages.OpGet, Key: []int{1}}).Status).To(Equal(messages.StatusPanicked))
		Expect(stop()).To(BeAssignableToTypeOf(&panicked{}))

		stop = start(o, mailbox) // as the supervisor would restart it
		Expect(ask(mailbox, req{Op: messages.OpGet, Key: "kept"}).Item.Value).To(Equal(7))
		Expect(stop()).To(Succeed())
	})
})

var _ = Describe("Cleaner", func() {
	var leaks goleak.Option
	BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(leaks)).To(Succeed()) })

	It("sweeps in steps on each tick until nothing is left, then stops with its context", func() {
		ticks := make(chan time.Time)
		steps := make(chan struct{}, 10)
		left := 3
		c := &Cleaner[string, int]{Ticks: ticks, Step: func() (bool, error) {
			left--
			steps <- struct{}{}
			return left > 0, nil
		}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		ticks <- time.Now()
		ticks <- time.Now() // accepted only once the first sweep ended
		Eventually(steps).Should(HaveLen(4))
		cancel()
		Expect(<-done).To(Succeed())
	})

	It("ends a sweep on an error", func() {
		ticks := make(chan time.Time)
		steps := make(chan struct{}, 10)
		c := &Cleaner[string, int]{Ticks: ticks, Step: func() (bool, error) {
			steps <- struct{}{}
			return true, context.Canceled
		}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		ticks <- time.Now()
		ticks <- time.Now() // accepted only once the first sweep ended
		Eventually(steps).Should(HaveLen(2))
		Consistently(steps, 50*time.Millisecond).Should(HaveLen(2), "one step per tick: the error ended each sweep")
		cancel()
		Expect(<-done).To(Succeed())
	})
})

type panicked struct{ value any }

func (p *panicked) Error() string { return "panicked" }
