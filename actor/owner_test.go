package actor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
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
			done <- o.Run(ctx, Link[any, int]{Mailbox: mailbox})
		}()
		return func() error { cancel(); return receive(done, "the owner's Run to return") }
	}
	ask := func(mailbox chan req, r req) rep {
		reply := make(chan rep, 1)
		r.Reply = reply
		send(mailbox, r, fmt.Sprintf("a request (op %d) to the owner", r.Op))
		return receive(reply, fmt.Sprintf("the owner's reply to op %d", r.Op))
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
		Expect(ask(mailbox, req{Op: messages.OpModifiedSince, Args: args}).More).To(BeTrue(), "past a limit of 0")
		args.Limit = -1
		Expect(ask(mailbox, req{Op: messages.OpModifiedSince, Args: args}).More).To(BeFalse())
		Expect(args.Entries).To(HaveLen(1))
		Expect(ask(mailbox, req{Op: messages.OpDelete, Key: "a"}).Status).To(Equal(messages.StatusOK))
		Expect(ask(mailbox, req{Op: messages.OpDelete, Key: "a"}).Status).To(Equal(messages.StatusNotFound))
		Expect(ask(mailbox, req{Op: messages.OpGet, Key: "a"}).Status).To(Equal(messages.StatusNotFound))
		Expect(ask(mailbox, req{Op: messages.OpClear}).Status).To(Equal(messages.StatusOK))
		Expect(ask(mailbox, req{Op: messages.OpSweep, Args: &messages.Args[any, int]{Limit: 10}}).N).To(BeZero())
		Expect(stop()).To(Succeed())
	})

	It("walks its items in steps, and ends the walks under way when it stops", func() {
		o := NewOwner[any, int](Config{})
		mailbox := make(chan req)
		stop := start(o, mailbox)
		for _, k := range []string{"a", "b", "c"} {
			ask(mailbox, req{Op: messages.OpSet, Key: k, Value: 1})
		}
		args := &messages.Args[any, int]{Limit: 2}
		ask(mailbox, req{Op: messages.OpWalk, Args: args})
		Expect(ask(mailbox, req{Op: messages.OpWalkStep, Args: args}).More).To(BeTrue())
		Expect(args.Entries).To(HaveLen(2))
		ask(mailbox, req{Op: messages.OpDelete, Key: "c"}) // before the walk reached it
		Expect(ask(mailbox, req{Op: messages.OpWalkStep, Args: args}).More).To(BeFalse())
		Expect(args.Entries).To(HaveLen(2))
		args.Entries = nil
		Expect(ask(mailbox, req{Op: messages.OpWalkEnd, Args: args}).Status).To(Equal(messages.StatusOK))
		Expect(args.Entries).To(HaveLen(1), "c, deleted before the walk reached it")
		Expect(args.Entries[0].Key).To(Equal("c"))
		Expect(args.Revision).To(Equal(uint64(3)), "the revision of the walk's start")

		args = &messages.Args[any, int]{Limit: 1}
		ask(mailbox, req{Op: messages.OpWalk, Args: args})
		Expect(stop()).To(Succeed())
		mailbox = make(chan req)
		stop = start(o, mailbox)
		Expect(ask(mailbox, req{Op: messages.OpWalkStep, Args: args}).Status).To(Equal(messages.StatusStopped),
			"a walk begun before a stop is over: its caller got ErrNotRunning")
		Expect(ask(mailbox, req{Op: messages.OpWalkEnd, Args: args}).Status).To(Equal(messages.StatusStopped))
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
		Expect(o.table.Stats().Items).To(Equal(100))
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

var _ = Describe("Owner's watchers and notices", func() {
	var leaks goleak.Option
	BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(leaks)).To(Succeed()) })

	type ev = messages.Event[string, int]
	lagging := errors.New("lagging")

	newWatch := func(buffer int) *messages.Watch[string, int] {
		return &messages.Watch[string, int]{C: make(chan ev, buffer+1), Ctx: context.Background()}
	}
	// closedWith returns the events a watch's channel holds, failing the
	// spec unless the owner, which sends them in the spec's goroutine,
	// has closed it after them: ranging over it would wait forever.
	closedWith := func(c chan ev) (out []ev) {
		GinkgoHelper()
		for {
			select {
			case e, ok := <-c:
				if !ok {
					return out
				}
				out = append(out, e)
			default:
				Fail(fmt.Sprintf("the watch's channel is not closed after its %d event(s)", len(out)))
			}
		}
	}
	kinds := func(c chan ev) (out []messages.EventKind) {
		GinkgoHelper()
		for _, e := range closedWith(c) {
			out = append(out, e.Kind)
		}
		return out
	}

	It("sends every change to every watcher, in order", func() {
		o := NewOwner[string, int](Config{Lagging: lagging})
		a, b := newWatch(10), newWatch(10)
		o.handle(&messages.Request[string, int]{Op: messages.OpWatch, Args: &messages.Args[string, int]{Watch: a}})
		o.handle(&messages.Request[string, int]{Op: messages.OpWatch, Args: &messages.Args[string, int]{Watch: b}})
		o.table.Set("k", 1, 0)
		o.table.Delete("k")
		o.table.Clear()
		o.EndWatches(context.Canceled)
		want := []messages.EventKind{messages.EventPut, messages.EventDelete, messages.EventClear, messages.EventEnd}
		Expect(kinds(a.C)).To(Equal(want))
		Expect(kinds(b.C)).To(Equal(want))
		Expect(o.stats().Watchers).To(BeZero())
	})

	It("ends a watcher that falls behind, keeping a slot for the reason, and goes on with the others", func() {
		o := NewOwner[string, int](Config{Lagging: lagging})
		slow, fast := newWatch(2), newWatch(10)
		o.handle(&messages.Request[string, int]{Op: messages.OpWatch, Args: &messages.Args[string, int]{Watch: slow}})
		o.handle(&messages.Request[string, int]{Op: messages.OpWatch, Args: &messages.Args[string, int]{Watch: fast}})
		for i := range 5 {
			o.table.Set("k", i, 0)
		}
		Expect(o.stats().Watchers).To(Equal(1))
		got := closedWith(slow.C)
		Expect(got).To(HaveLen(3))
		last := got[len(got)-1]
		Expect(last.Kind).To(Equal(messages.EventEnd))
		Expect(last.Err).To(MatchError(lagging))
		Expect(fast.C).To(HaveLen(5))
	})

	// A load is a clear and a write of each item: a watcher whose buffer
	// cannot take them all, beside the slot kept for the reason, is ended
	// before any of it, and one whose buffer takes them exactly is kept.
	It("ends before a load a watcher with no room for all of it, and keeps one with room exactly", func() {
		o := NewOwner[string, int](Config{Lagging: lagging})
		// Each holds the two writes below, unread: 6 free slots beside the
		// reserved one in exact, 5 in short, for the load's 1+5 events.
		exact, short := newWatch(8), newWatch(7)
		for _, w := range []*messages.Watch[string, int]{exact, short} {
			o.handle(&messages.Request[string, int]{Op: messages.OpWatch, Args: &messages.Args[string, int]{Watch: w}})
		}
		o.table.Set("a", 1, 0)
		o.table.Set("b", 2, 0)
		t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
		var entries []messages.Entry[string, int]
		for i := range 5 {
			entries = append(entries, messages.Entry[string, int]{Key: fmt.Sprint("k", i),
				Item: &messages.Item[int]{Value: i, Revision: uint64(i + 1), LastModified: t0.Add(time.Duration(i))}})
		}
		content, err := o.Prepare(len(entries), slices.Values(entries), 5, t0.Add(4))
		Expect(err).NotTo(HaveOccurred())
		o.handle(&messages.Request[string, int]{Op: messages.OpLoad, Args: &messages.Args[string, int]{Content: content}})

		got := closedWith(short.C)
		Expect(got).To(HaveLen(3), "the two writes before the load, then the end: none of the load")
		Expect(got[2].Kind).To(Equal(messages.EventEnd))
		Expect(got[2].Err).To(MatchError(lagging))
		Expect(o.stats().Watchers).To(Equal(1))
		Expect(exact.C).To(HaveLen(8), "the two writes, the load's clear and its five writes")
		o.EndWatches(context.Canceled)
		Expect(kinds(exact.C)).To(Equal([]messages.EventKind{messages.EventPut, messages.EventPut, messages.EventClear,
			messages.EventPut, messages.EventPut, messages.EventPut, messages.EventPut, messages.EventPut, messages.EventEnd}))
	})

	It("unwatches the watch named, with its reason, and goes on with the others", func() {
		o := NewOwner[string, int](Config{Lagging: lagging})
		a, b, c := newWatch(10), newWatch(10), newWatch(10)
		for _, w := range []*messages.Watch[string, int]{a, b, c} {
			o.handle(&messages.Request[string, int]{Op: messages.OpWatch, Args: &messages.Args[string, int]{Watch: w}})
		}
		gone := errors.New("unwatched")
		o.handle(&messages.Request[string, int]{Op: messages.OpUnwatch, Args: &messages.Args[string, int]{Watch: b, Err: gone}})
		Expect(o.stats().Watchers).To(Equal(2))
		got := closedWith(b.C)
		Expect(got).To(HaveLen(1))
		Expect(got[0].Err).To(MatchError(gone))
		o.table.Set("k", 1, 0)
		Expect(a.C).To(Receive(HaveField("Kind", messages.EventPut)))
		Expect(c.C).To(Receive(HaveField("Kind", messages.EventPut)))
	})

	It("answers a Touch with the touched item, or StatusNotFound", func() {
		o := NewOwner[string, int](Config{})
		o.table.Set("k", 1, time.Minute)
		got := o.handle(&messages.Request[string, int]{Op: messages.OpTouch, Key: "k"})
		Expect(got.Status).To(Equal(messages.StatusOK))
		Expect(got.Item).NotTo(BeNil())
		Expect(got.Item.Value).To(Equal(1))
		Expect(o.handle(&messages.Request[string, int]{Op: messages.OpTouch, Key: "absent"}).Status).To(Equal(messages.StatusNotFound))
	})

	It("ends at once a watch whose context ended before it began", func() {
		o := NewOwner[string, int](Config{})
		w := newWatch(1)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		w.Ctx = ctx
		o.handle(&messages.Request[string, int]{Op: messages.OpWatch, Args: &messages.Args[string, int]{Watch: w}})
		Expect(w.C).To(Receive(HaveField("Err", MatchError(context.Canceled))))
		Expect(w.C).To(BeClosed())
	})

	It("keeps expiry and eviction notices, signals when the first is pending, drops the oldest past the bound", func() {
		now := time.Now()
		clock := func() time.Time { return now }
		o := NewOwner[string, int](Config{MaxSize: 1, EvictOldest: true, Notify: true, MaxPending: 2, Clock: clock})
		wake := make(chan struct{}, 1)
		o.link.Wake = wake
		o.table.Set("a", 1, 0)
		Expect(wake).NotTo(Receive())
		o.table.Set("b", 1, 0) // evicts a
		Expect(wake).To(Receive())
		o.table.Set("c", 1, time.Second) // evicts b
		now = now.Add(2 * time.Second)
		o.table.Get("c") // expires c
		Expect(wake).NotTo(Receive(), "one signal while notices are pending")
		Expect(o.stats().Dropped).To(Equal(uint64(1)))
		taken := o.TakeEvicted()
		Expect(taken).To(HaveLen(2))
		Expect(taken[0].Key).To(Equal("b"))
		Expect(taken[1].Kind).To(Equal(messages.EventExpire))
		o.table.Delete("nothing")
		Expect(o.TakeEvicted()).To(BeEmpty())
	})

	It("hands the pending notices over as it stops", func() {
		o := NewOwner[string, int](Config{MaxSize: 1, EvictOldest: true, Notify: true})
		o.table.Set("a", 1, 0)
		o.table.Set("b", 1, 0)
		link := Link[string, int]{
			Mailbox: make(chan messages.Request[string, int], 1),
			Wake:    make(chan struct{}, 1),
			Final:   make(chan []messages.Event[string, int], 1),
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		Expect(o.Run(ctx, link)).To(Succeed())
		Expect(link.Final).To(Receive(HaveLen(1)))
	})

	It("takes back a final batch nobody took, ahead of later notices, and signals it on the next run", func() {
		o := NewOwner[string, int](Config{MaxSize: 1, EvictOldest: true, Notify: true, MaxPending: 2})
		o.table.Set("a", 1, 0)
		o.table.Set("b", 1, 0) // evicts a
		first := Link[string, int]{
			Mailbox: make(chan messages.Request[string, int], 1),
			Final:   make(chan []messages.Event[string, int], 1),
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		Expect(o.Run(ctx, first)).To(Succeed())
		o.table.Set("c", 1, 0) // evicts b, after the handover
		o.table.Set("d", 1, 0) // evicts c
		o.Reclaim(first.Final)
		Expect(first.Final).To(BeEmpty())
		Expect(o.stats().Dropped).To(Equal(uint64(1)), "a, the oldest, is dropped past MaxPending")

		next := Link[string, int]{
			Mailbox: make(chan messages.Request[string, int], 1),
			Wake:    make(chan struct{}, 1),
			Final:   make(chan []messages.Event[string, int], 1),
		}
		Expect(o.Run(ctx, next)).To(Succeed())
		Expect(next.Wake).To(Receive(), "notices left from the run before are signalled")
		var batch []messages.Event[string, int]
		Expect(next.Final).To(Receive(&batch))
		Expect(batch).To(HaveLen(2))
		Expect(batch[0].Key).To(Equal("b"))
		Expect(batch[1].Key).To(Equal("c"))
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
		c := &Cleaner[string, int]{Ticks: ticks, Step: func(context.Context) (bool, error) {
			left--
			steps <- struct{}{}
			return left > 0, nil
		}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		send(ticks, time.Now(), "a tick to the cleaner")
		send(ticks, time.Now(), "a second tick, taken only once the first sweep ended")
		Eventually(steps).Should(HaveLen(4))
		cancel()
		Expect(receive(done, "the cleaner's Run to return")).To(Succeed())
	})

	It("ends a sweep on an error", func() {
		ticks := make(chan time.Time)
		steps := make(chan struct{}, 10)
		c := &Cleaner[string, int]{Ticks: ticks, Step: func(context.Context) (bool, error) {
			steps <- struct{}{}
			return true, context.Canceled
		}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		send(ticks, time.Now(), "a tick to the cleaner")
		send(ticks, time.Now(), "a second tick, taken only once the first sweep ended")
		Eventually(steps).Should(HaveLen(2))
		Consistently(steps, 50*time.Millisecond).Should(HaveLen(2), "one step per tick: the error ended each sweep")
		cancel()
		Expect(receive(done, "the cleaner's Run to return")).To(Succeed())
	})

	It("once its context is done takes no wake-up and no tick, however many are ready", func() {
		// A cleaner left behind by the stop timeout comes back here when
		// its callback returns; the wake-up it would take is another's.
		for range 200 {
			ticks := make(chan time.Time, 1)
			ticks <- time.Now()
			wake := make(chan struct{}, 1)
			wake <- struct{}{}
			final := make(chan []messages.Event[string, int], 1)
			c := &Cleaner[string, int]{
				Ticks: ticks, Wake: wake, Final: final,
				Step: func(context.Context) (bool, error) { Fail("stepped after its stop"); return false, nil },
				Take: func(context.Context) ([]messages.Event[string, int], error) {
					Fail("took notices after its stop")
					return nil, nil
				},
				OnEvict: func(messages.Event[string, int]) {},
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			Expect(c.Run(ctx)).To(Succeed())
			Expect(wake).To(HaveLen(1))
			Expect(ticks).To(HaveLen(1))
		}
	})

	DescribeTable("runs the rest of a batch after a callback that ends badly, and reports just that one",
		func(end func(), want any) {
			wake := make(chan struct{}, 1)
			wake <- struct{}{}
			taken := false
			var called []string
			var reported []any
			c := &Cleaner[string, int]{
				Wake: wake,
				Take: func(context.Context) ([]messages.Event[string, int], error) {
					if taken {
						return nil, nil
					}
					taken = true
					return []messages.Event[string, int]{{Key: "a"}, {Key: "b"}, {Key: "c"}}, nil
				},
				OnEvict: func(ev messages.Event[string, int]) {
					called = append(called, ev.Key)
					if ev.Key == "b" {
						end()
					}
				},
				OnPanic: func(v any) { reported = append(reported, v) },
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			Eventually(func() int { return len(wake) }).Should(BeZero())
			cancel()
			Eventually(done).Should(Receive(BeNil()), "the cleaner itself lives on and stops as asked")
			Expect(called).To(Equal([]string{"a", "b", "c"}))
			Expect(reported).To(Equal([]any{want}))
		},
		Entry("runtime.Goexit, as t.FailNow calls", runtime.Goexit, ErrGoexit),
		Entry("a panic", func() { panic("boom") }, "boom"),
	)
})

type panicked struct{ value any }

func (p *panicked) Error() string { return "panicked" }
