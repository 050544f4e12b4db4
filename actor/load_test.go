package actor

import (
	"context"
	"errors"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

// The owner's side of GetOrLoad, one request at a time: who loads, who is
// parked, what ends a load and what its callers get.
var _ = Describe("Owner loads", func() {
	type req = messages.Request[string, int]
	type rep = messages.Reply[string, int]
	var (
		leaks   goleak.Option
		o       *Owner[string, int]
		mailbox chan req
		stop    func()
	)
	BeforeEach(func() {
		leaks = goleak.IgnoreCurrent()
		o = NewOwner[string, int](Config{})
		mailbox = make(chan req)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- o.Run(ctx, Link[string, int]{Mailbox: mailbox}) }()
		stop = func() {
			cancel()
			Eventually(done).Should(Receive(BeNil()), "Run to return")
		}
	})
	AfterEach(func() {
		stop()
		Expect(goleak.Find(leaks)).To(Succeed())
	})

	// send sends r with a reply channel of two slots, as GetOrLoad's, and
	// returns the channel.
	send := func(r req) chan rep {
		reply := make(chan rep, 2)
		r.Reply = reply
		Eventually(mailbox).Should(BeSent(r), "the owner to take %v", r.Op)
		return reply
	}
	answer := func(reply chan rep) rep {
		GinkgoHelper()
		var r rep
		Eventually(reply).Should(Receive(&r), "the owner's answer")
		return r
	}
	ask := func(r req) rep { GinkgoHelper(); return answer(send(r)) }
	getOrLoad := func(key string) (rep, chan rep, *messages.Args[string, int]) {
		GinkgoHelper()
		args := &messages.Args[string, int]{}
		reply := send(req{Op: messages.OpGetOrLoad, Key: key, Args: args})
		return answer(reply), reply, args
	}
	loaded := func(key string, value int, err error) rep {
		GinkgoHelper()
		return ask(req{Op: messages.OpLoaded, Key: key, Value: value, Args: &messages.Args[string, int]{Err: err}})
	}
	stats := func() messages.Stats {
		GinkgoHelper()
		args := &messages.Args[string, int]{}
		ask(req{Op: messages.OpStats, Args: args})
		return args.Stats
	}
	// parked returns n callers parked behind the load of key.
	parked := func(key string, n int) []chan rep {
		GinkgoHelper()
		var replies []chan rep
		for range n {
			first, reply, _ := getOrLoad(key)
			Expect(first.Status).To(Equal(messages.StatusParked))
			replies = append(replies, reply)
		}
		return replies
	}

	It("answers a present key with its item, and makes the first caller of a missing one its loader", func() {
		ask(req{Op: messages.OpSet, Key: "here", Value: 1})
		first, _, _ := getOrLoad("here")
		Expect(first.Status).To(Equal(messages.StatusOK))
		Expect(first.Item.Value).To(Equal(1))
		first, _, _ = getOrLoad("k")
		Expect(first.Status).To(Equal(messages.StatusLoad))
		Expect(stats().Loads).To(BeZero())
	})

	It("parks the later callers and gives them the loader's item, counting the load", func() {
		Expect(firstOf(getOrLoad("k")).Status).To(Equal(messages.StatusLoad))
		waiters := parked("k", 3)
		Expect(stats().Waiting).To(Equal(3))
		got := loaded("k", 7, nil)
		Expect(got.Status).To(Equal(messages.StatusOK))
		Expect(got.Item.Value).To(Equal(7))
		for _, w := range waiters {
			Expect(answer(w).Item).To(BeIdenticalTo(got.Item))
		}
		st := stats()
		Expect(st.Loads).To(BeEquivalentTo(1))
		Expect(st.LoadErrors).To(BeZero())
		Expect(st.Waiting).To(BeZero())
		Expect(ask(req{Op: messages.OpGet, Key: "k"}).Item).To(BeIdenticalTo(got.Item))
	})

	It("gives a failed load's status to every caller, stores nothing, and counts the error", func() {
		getOrLoad("k")
		waiters := parked("k", 2)
		boom := errors.New("boom")
		Expect(loaded("k", 7, boom).Status).To(Equal(messages.StatusLoadFailed))
		for _, w := range waiters {
			Expect(answer(w).Status).To(Equal(messages.StatusLoadFailed))
		}
		st := stats()
		Expect(st.Loads).To(BeEquivalentTo(1))
		Expect(st.LoadErrors).To(BeEquivalentTo(1))
		Expect(ask(req{Op: messages.OpGet, Key: "k"}).Status).To(Equal(messages.StatusNotFound))
	})

	DescribeTable("lets a change of the key during its load win over the value loaded",
		func(change func(), status messages.Status, value int) {
			getOrLoad("k")
			waiter := parked("k", 1)[0]
			change()
			got := loaded("k", 7, nil)
			Expect(got.Status).To(Equal(status))
			Expect(answer(waiter).Status).To(Equal(status))
			if status == messages.StatusOK {
				Expect(got.Item.Value).To(Equal(value))
			}
			Expect(stats().Loads).To(BeEquivalentTo(1))
		},
		Entry("a write", func() { ask(req{Op: messages.OpSet, Key: "k", Value: 9}) }, messages.StatusOK, 9),
		Entry("a write then a delete", func() {
			ask(req{Op: messages.OpSet, Key: "k", Value: 9})
			ask(req{Op: messages.OpDelete, Key: "k"})
		}, messages.StatusNotFound, 0),
		Entry("a clear", func() { ask(req{Op: messages.OpClear}) }, messages.StatusNotFound, 0),
	)

	It("stores the value loaded when only other keys changed, or a delete found the key absent", func() {
		getOrLoad("k")
		ask(req{Op: messages.OpSet, Key: "other", Value: 1})
		ask(req{Op: messages.OpDelete, Key: "other"})
		Expect(ask(req{Op: messages.OpDelete, Key: "k"}).Status).To(Equal(messages.StatusNotFound))
		Expect(loaded("k", 7, nil).Item.Value).To(Equal(7))
	})

	It("forgets a parked caller that leaves, and only that one", func() {
		getOrLoad("k")
		waiters := parked("k", 3)
		_, leaving, args := getOrLoad("k")
		Expect(stats().Waiting).To(Equal(4))
		Expect(ask(req{Op: messages.OpLeave, Key: "k", Args: args}).Status).To(Equal(messages.StatusOK))
		Expect(stats().Waiting).To(Equal(3))
		// A leave that finds nothing changes nothing: an unknown caller,
		// a key not loading.
		ask(req{Op: messages.OpLeave, Key: "k", Args: &messages.Args[string, int]{}})
		ask(req{Op: messages.OpLeave, Key: "nothing", Args: args})
		Expect(stats().Waiting).To(Equal(3))
		loaded("k", 7, nil)
		for _, w := range waiters {
			Expect(answer(w).Item.Value).To(Equal(7))
		}
		Consistently(leaving).ShouldNot(Receive(), "a caller that left is not answered")
	})

	It("answers a report of a key not loading with StatusStopped", func() {
		Expect(loaded("k", 7, nil).Status).To(Equal(messages.StatusStopped))
		Expect(stats().Loads).To(BeZero())
	})

	It("answers the parked callers with StatusStopped as it stops, and forgets the load", func() {
		getOrLoad("k")
		waiters := parked("k", 2)
		stop()
		for _, w := range waiters {
			Expect(answer(w).Status).To(Equal(messages.StatusStopped))
		}
		Expect(o.loading).To(BeEmpty())
		// Started again for AfterEach's stop.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- o.Run(ctx, Link[string, int]{Mailbox: mailbox}) }()
		stop = func() { cancel(); Eventually(done).Should(Receive(BeNil()), "Run to return") }
	})

	It("answers the parked callers of a load whose end panicked with StatusPanicked, and forgets the load", func() {
		stop() // this spec runs the owner itself, to see it panic
		o.InjectFault(func(op messages.Op) {
			if op == messages.OpLoaded {
				panic("fault")
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		panicked := make(chan any, 1)
		go func() {
			defer func() { panicked <- recover() }()
			_ = o.Run(ctx, Link[string, int]{Mailbox: mailbox})
		}()
		getOrLoad("k")
		waiters := parked("k", 2)
		Expect(loaded("k", 7, nil).Status).To(Equal(messages.StatusPanicked))
		var p any
		Eventually(panicked).Should(Receive(&p), "Run to panic")
		Expect(p).To(BeAssignableToTypeOf(&relayedPanic{}))
		Expect(p.(*relayedPanic).PanicValue()).To(Equal("fault"), "Run panics with the fault, relayed from the loop")
		Expect(string(p.(*relayedPanic).PanicStack())).To(ContainSubstring("load_test.go"), "with the stack it began on")
		for _, w := range waiters {
			Expect(answer(w).Status).To(Equal(messages.StatusPanicked))
		}
		Expect(o.loading).To(BeEmpty(), "the next caller loads again")

		o.InjectFault(nil)
		ctx, cancel = context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- o.Run(ctx, Link[string, int]{Mailbox: mailbox}) }()
		stop = func() { cancel(); Eventually(done).Should(Receive(BeNil()), "Run to return") }
		Expect(firstOf(getOrLoad("k")).Status).To(Equal(messages.StatusLoad))
	})
})

// firstOf drops the channel and args getOrLoad returns beside its answer.
func firstOf[T any](v T, _ ...any) T { return v }
