package actor

import (
	"context"
	"fmt"
	"runtime"
	"strconv"

	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("Owner updates", func() {
	type req = messages.Request[string, int]
	type rep = messages.Reply[string, int]
	type fn = func(*messages.Item[int]) (int, messages.UpdateOp)

	var (
		o       *Owner[string, int]
		mailbox chan req
		ended   chan any // what Run ended with: nil, its panic, or "goexit"
		cancel  context.CancelFunc
		leaks   goleak.Option
	)
	ask := func(r req) rep {
		GinkgoHelper()
		reply := make(chan rep, 1)
		r.Reply = reply
		send(mailbox, r, "a request to the owner")
		return receive(reply, "the owner's reply")
	}
	BeforeEach(func() {
		leaks = goleak.IgnoreCurrent()
		o = NewOwner[string, int](Config{ReadIndex: true})
		mailbox = make(chan req, 4)
		ended = make(chan any, 1)
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		go func() {
			returned := false
			defer func() {
				if v := recover(); v != nil {
					ended <- v
				} else if !returned {
					ended <- "goexit"
				}
			}()
			_ = o.Run(ctx, Link[string, int]{Mailbox: mailbox})
			returned = true
			ended <- nil
		}()
	})
	AfterEach(func() {
		cancel()
		receive(ended, "Run to end")
		Expect(goleak.Find(leaks)).To(Succeed())
	})

	It("runs the function on the owner in one step and does what it asks", func() {
		got := ask(req{Op: messages.OpUpdate, Key: "a", Fn: func(item *messages.Item[int]) (int, messages.UpdateOp) {
			Expect(item).To(BeNil())
			return 1, messages.UpdateWrite
		}})
		Expect(got.Status).To(Equal(messages.StatusOK))
		Expect(got.Item.Value).To(Equal(1))
		got = ask(req{Op: messages.OpUpdate, Key: "a", Fn: func(item *messages.Item[int]) (int, messages.UpdateOp) {
			return item.Value + 1, messages.UpdateWrite
		}})
		Expect(got.Item.Value).To(Equal(2))
		Expect(got.Item.Revision).To(Equal(uint64(2)))
	})

	DescribeTable("answers a function that ends badly with StatusUpdatePanicked, changes nothing and serves on",
		func(f fn, want any) {
			ask(req{Op: messages.OpSet, Key: "a", Value: 1})
			got := ask(req{Op: messages.OpUpdate, Key: "a", Fn: f})
			Expect(got.Status).To(Equal(messages.StatusUpdatePanicked))
			Expect(got.Failure).To(Equal(want))
			Expect(o.reentry.seq.Load()%2).To(BeZero(), "no function runs")
			after := ask(req{Op: messages.OpGet, Key: "a"})
			Expect(after.Status).To(Equal(messages.StatusOK), "the owner serves on")
			Expect(after.Item.Value).To(Equal(1))
			Expect(after.Item.Revision).To(Equal(uint64(1)), "nothing changed")
			Expect(ended).NotTo(Receive(), "Run goes on")
		},
		Entry("a panic", fn(func(*messages.Item[int]) (int, messages.UpdateOp) { panic("boom") }), "boom"),
		Entry("runtime.Goexit", fn(func(*messages.Item[int]) (int, messages.UpdateOp) {
			runtime.Goexit()
			return 2, messages.UpdateWrite
		}), messages.Goexit{}),
	)

	It("serves on after many Goexits, each on a fresh goroutine", func() {
		for range 100 {
			got := ask(req{Op: messages.OpUpdate, Key: "a", Fn: func(*messages.Item[int]) (int, messages.UpdateOp) {
				runtime.Goexit()
				return 0, messages.UpdateKeep
			}})
			Expect(got.Status).To(Equal(messages.StatusUpdatePanicked))
		}
		Expect(ask(req{Op: messages.OpSize}).N).To(BeZero())
	})

	It("lets a runtime.Goexit outside an update go on through Run", func() {
		cancel()
		Expect(receive(ended, "Run to end")).To(BeNil())
		o.InjectFault(func(op messages.Op) {
			if op == messages.OpSize {
				runtime.Goexit()
			}
		})
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		go func() {
			returned := false
			defer func() {
				if !returned {
					ended <- "goexit"
				}
			}()
			_ = o.Run(ctx, Link[string, int]{Mailbox: mailbox})
			returned = true
			ended <- nil
		}()
		Expect(ask(req{Op: messages.OpSize}).Status).To(Equal(messages.StatusPanicked), "the request in hand is answered")
		Expect(receive(ended, "Run to end")).To(Equal("goexit"), "Run's goroutine ends as the loop's did: the supervisor restarts it")
		ended <- nil // for AfterEach
	})

	It("tells the owner running a function from every other goroutine", func() {
		Expect(o.Reentry().Entered()).To(BeFalse(), "no function runs")
		inside := make(chan bool, 1)
		release := make(chan struct{})
		reply := make(chan rep, 1)
		send(mailbox, req{Op: messages.OpUpdate, Key: "a", Reply: reply, Fn: func(*messages.Item[int]) (int, messages.UpdateOp) {
			inside <- o.Reentry().Entered()
			<-release
			return 0, messages.UpdateKeep
		}}, "the Update")
		Expect(receive(inside, "the function to run")).To(BeTrue(), "from inside the function, on the owner")
		Expect(o.reentry.seq.Load()%2).To(Equal(uint64(1)), "a function runs")
		Expect(o.Reentry().Entered()).To(BeFalse(), "from another goroutine while the function runs, however long it runs")
		close(release)
		Expect(receive(reply, "the Update's reply").Status).To(Equal(messages.StatusOK))
		Expect(o.Reentry().Entered()).To(BeFalse())
	})

	// The reentry check compares goroutine ids, which goid reads from a
	// stack trace: it must read every id whole, whatever its digits, or
	// two goroutines could pass for one.
	It("reads each goroutine's id as its stack trace prints it, whatever its digits", func() {
		type ids struct{ got, printed uint64 }
		seen := map[rune]bool{}
		for n := 0; len(seen) < 10 || n < 20; n++ {
			Expect(n).To(BeNumerically("<", 10000), "goroutines whose ids hold every digit, %d seen", len(seen))
			ch := make(chan ids, 1)
			go func() {
				var buf [64]byte
				var printed uint64
				_, _ = fmt.Sscanf(string(buf[:runtime.Stack(buf[:], false)]), "goroutine %d ", &printed)
				ch <- ids{goid(), printed}
			}()
			got := receive(ch, "a goroutine's id")
			Expect(got.printed).NotTo(BeZero(), "the id the stack trace prints")
			Expect(got.got).To(Equal(got.printed), "goid of goroutine %d", got.printed)
			for _, d := range strconv.FormatUint(got.printed, 10) {
				seen[d] = true
			}
		}
	})
})
