package actor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("Owner's history", func() {
	type req = messages.Request[int, int]
	type ev = messages.Event[int, int]

	var (
		leaks   goleak.Option
		mailbox chan req
		stop    func()
	)
	BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
	AfterEach(func() {
		stop()
		Expect(goleak.Find(leaks)).To(Succeed())
	})
	run := func(o *Owner[int, int]) {
		mailbox = make(chan req)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- o.Run(ctx, Link[int, int]{Mailbox: mailbox}) }()
		stop = func() { cancel(); Expect(receive(done, "the owner's Run to return")).To(Succeed()) }
	}
	ask := func(r req) messages.Reply[int, int] {
		reply := make(chan messages.Reply[int, int], 1)
		r.Reply = reply
		send(mailbox, r, fmt.Sprintf("a request (op %d) to the owner", r.Op))
		return receive(reply, fmt.Sprintf("the owner's reply to op %d", r.Op))
	}
	set := func(n int) {
		for i := range n {
			Expect(ask(req{Op: messages.OpSet, Key: i % 10, Value: i}).Status).To(Equal(messages.StatusOK))
		}
	}
	compacted := errors.New("compacted")
	owner := func(history int) *Owner[int, int] {
		return NewOwner[int, int](Config{History: history, Lagging: errors.New("lagging"), Compacted: func(uint64) error { return compacted }})
	}
	// drain takes every event w.C holds now.
	drain := func(w *messages.Watch[int, int]) []ev {
		var out []ev
		for {
			select {
			case e, ok := <-w.C:
				if !ok {
					return out
				}
				out = append(out, e)
			default:
				return out
			}
		}
	}
	step := func(w *messages.Watch[int, int], from uint64) messages.Reply[int, int] {
		return ask(req{Op: messages.OpWatchFrom, Revision: from, Args: &messages.Args[int, int]{Watch: w}})
	}

	It("replays in bounded steps, then makes the watch live in the step that finishes", func() {
		run(owner(1000))
		set(600)
		w := &messages.Watch[int, int]{Ctx: context.Background(), Buffer: 8}
		Expect(step(w, 100).Status).To(Equal(messages.StatusMore))
		Expect(cap(w.C)).To(Equal(500+8+1), "room for the replay, the buffer and the EventEnd")
		Expect(w.Next).To(Equal(uint64(100 + replayStep)))
		Expect(len(w.C)).To(Equal(replayStep), "one step sends no more than replayStep events")
		set(3) // changes between steps are replayed too
		Expect(step(w, 100).Status).To(Equal(messages.StatusOK), "the 247 left fit one step")
		set(1)
		got := drain(w)
		Expect(got).To(HaveLen(504))
		for i, e := range got {
			Expect(e.Revision).To(Equal(uint64(101+i)), "in order, nothing lost, nothing twice")
		}
	})

	It("answers StatusFuture past the latest change and StatusCompacted before the history", func() {
		run(owner(5))
		set(20)
		Expect(step(&messages.Watch[int, int]{Ctx: context.Background()}, 21).Status).To(Equal(messages.StatusFuture))
		latest := &messages.Watch[int, int]{Ctx: context.Background(), Buffer: 1}
		Expect(step(latest, 20).Status).To(Equal(messages.StatusOK), "from the latest change: nothing to replay, live at once")
		Expect(drain(latest)).To(BeEmpty())
		args := &messages.Args[int, int]{Watch: &messages.Watch[int, int]{Ctx: context.Background()}}
		Expect(ask(req{Op: messages.OpWatchFrom, Revision: 14, Args: args}).Status).To(Equal(messages.StatusCompacted))
		Expect(args.Revision).To(Equal(uint64(15)), "the oldest revision it accepts")
		w := &messages.Watch[int, int]{Ctx: context.Background(), Buffer: 1}
		Expect(step(w, 15).Status).To(Equal(messages.StatusOK))
		Expect(drain(w)).To(HaveLen(5))
	})

	It("ends a replay that changes between its steps outran, with the history's error or as lagging", func() {
		run(owner(300))
		set(300)
		outrun := &messages.Watch[int, int]{Ctx: context.Background(), Buffer: 1000}
		Expect(step(outrun, 0).Status).To(Equal(messages.StatusMore))
		set(300) // pushes revisions 1 to 300 out of the history
		Expect(step(outrun, 0).Status).To(Equal(messages.StatusOK))
		got := drain(outrun)
		Expect(got).To(HaveLen(replayStep + 1))
		Expect(got[replayStep].Kind).To(Equal(messages.EventEnd))
		Expect(got[replayStep].Err).To(MatchError(compacted))
		Expect(outrun.C).To(BeClosed())

		lagging := &messages.Watch[int, int]{Ctx: context.Background(), Buffer: 2}
		Expect(step(lagging, 300).Status).To(Equal(messages.StatusMore))
		set(5) // more than its buffer of 2 arrive before its next step
		Expect(step(lagging, 300).Status).To(Equal(messages.StatusOK))
		got = drain(lagging)
		Expect(got).To(HaveLen(cap(lagging.C)), "every slot filled, the last with the EventEnd")
		Expect(got[len(got)-1].Kind).To(Equal(messages.EventEnd))
		Expect(got[len(got)-1].Err).To(MatchError("lagging"))
		args := &messages.Args[int, int]{}
		ask(req{Op: messages.OpStats, Args: args})
		Expect(args.Stats.Watchers).To(BeZero(), "neither was made live")
	})

	// The history holds a load whole, so that a watch from before it can
	// be replayed through it, only when its clear and every write fit.
	DescribeTable("announces a load only when the history holds it whole",
		func(history int, announced bool) {
			o := owner(history)
			run(o)
			set(5)
			base := time.Now().Add(-time.Hour)
			content, err := o.Prepare(4, func(yield func(messages.Entry[int, int]) bool) {
				for i := range 4 {
					if !yield(messages.Entry[int, int]{Key: i, Item: &messages.Item[int]{Value: i, Revision: uint64(i + 1), LastModified: base.Add(time.Duration(i))}}) {
						return
					}
				}
			}, 4, base.Add(4))
			Expect(err).NotTo(HaveOccurred())
			Expect(ask(req{Op: messages.OpLoad, Args: &messages.Args[int, int]{Content: content}}).Status).To(Equal(messages.StatusOK))
			w := &messages.Watch[int, int]{Ctx: context.Background(), Buffer: 1}
			args := &messages.Args[int, int]{Watch: w}
			if !announced {
				Expect(ask(req{Op: messages.OpWatchFrom, Revision: 5, Args: args}).Status).To(Equal(messages.StatusCompacted))
				Expect(args.Revision).To(Equal(uint64(5+1+4)), "it forgot everything up to the load's clear and its four writes")
				return
			}
			Expect(ask(req{Op: messages.OpWatchFrom, Revision: 5, Args: args}).Status).To(Equal(messages.StatusOK))
			got := drain(w)
			Expect(got).To(HaveLen(1 + 4))
			Expect(got[0].Kind).To(Equal(messages.EventClear))
		},
		Entry("a history of 5: the clear and the 4 writes", 5, true),
		Entry("a history of 4: one short", 4, false),
		Entry("a history of 3", 3, false),
	)
})
