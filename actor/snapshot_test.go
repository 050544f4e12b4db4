package actor

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/table"
	"github.com/lastmodstore/lastmodstore/messages"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("Owner's snapshots", func() {
	type req = messages.Request[string, int]
	type ev = messages.Event[string, int]

	var leaks goleak.Option
	var stops []func() // stop the owners run started
	BeforeEach(func() { leaks, stops = goleak.IgnoreCurrent(), nil })
	AfterEach(func() {
		for _, stop := range stops {
			stop()
		}
		Expect(goleak.Find(leaks)).To(Succeed())
	})
	run := func(o *Owner[string, int]) chan req {
		mailbox := make(chan req)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- o.Run(ctx, Link[string, int]{Mailbox: mailbox}) }()
		stops = append(stops, func() { cancel(); Expect(receive(done, "the owner's Run to return")).To(Succeed()) })
		return mailbox
	}
	ask := func(mailbox chan req, r req) messages.Reply[string, int] {
		reply := make(chan messages.Reply[string, int], 1)
		r.Reply = reply
		send(mailbox, r, fmt.Sprintf("a request (op %d) to the owner", r.Op))
		return receive(reply, fmt.Sprintf("the owner's reply to op %d", r.Op))
	}
	itemsOf := func(entries []messages.Entry[string, int]) iter.Seq[messages.Entry[string, int]] {
		return slices.Values(entries)
	}

	It("snapshots in a walk and loads in one step, announcing the load to its watchers", func() {
		from, to := NewOwner[string, int](Config{}), NewOwner[string, int](Config{ReadIndex: true, Lagging: errors.New("lagging")})
		src, dst := run(from), run(to)
		ask(src, req{Op: messages.OpSet, Key: "a", Value: 1})
		ask(src, req{Op: messages.OpSet, Key: "b", Value: 2})
		ask(src, req{Op: messages.OpDelete, Key: "a"})
		snap := &messages.Args[string, int]{Limit: 10}
		ask(src, req{Op: messages.OpWalk, Args: snap})
		Expect(ask(src, req{Op: messages.OpWalkStep, Args: snap}).More).To(BeFalse(), "one step")
		read := snap.Entries
		snap.Entries = nil
		Expect(ask(src, req{Op: messages.OpWalkEnd, Args: snap}).Status).To(Equal(messages.StatusOK))
		snap.Entries = table.Merge(read, snap.Entries)
		Expect(snap.Entries).To(HaveLen(1))
		Expect(snap.Revision).To(Equal(uint64(3)), "two writes and a deletion")
		Expect(snap.LastModified).To(Equal(snap.Entries[0].Item.LastModified))

		ask(dst, req{Op: messages.OpSet, Key: "old", Value: 9})
		w := &messages.Watch[string, int]{C: make(chan ev, 8), Ctx: context.Background()}
		ask(dst, req{Op: messages.OpWatch, Args: &messages.Args[string, int]{Watch: w}})

		// Prepared here, off the owner.
		content, err := to.Prepare(len(snap.Entries), itemsOf(snap.Entries), snap.Revision, snap.LastModified)
		Expect(err).NotTo(HaveOccurred())
		load := &messages.Args[string, int]{Content: content}
		Expect(ask(dst, req{Op: messages.OpLoad, Args: load}).Status).To(Equal(messages.StatusOK))
		old := load.Content.(*table.Content[string, int])
		Expect(old.Len()).To(Equal(1), "the replaced content comes back")
		old.Discard()

		got, _, _ := to.Read("b")
		Expect(got).NotTo(BeNil(), "the read index is published before the reply")
		Expect(*got).To(Equal(*snap.Entries[0].Item))
		gone, _, _ := to.Read("old")
		Expect(gone).To(BeNil())
		clear := receive(w.C, "the load's EventClear")
		Expect(clear.Kind).To(Equal(messages.EventClear))
		Expect(clear.Revision).To(Equal(uint64(4)), "the load's first change comes after the loaded counter")
		put := receive(w.C, "the load's EventPut of b")
		Expect(put.Kind).To(Equal(messages.EventPut))
		Expect(put.Key).To(Equal("b"))
		Expect(put.Item).To(BeIdenticalTo(got))
		Expect(put.Revision).To(Equal(uint64(5)))
		Expect(put.Item.Revision).To(Equal(uint64(2)), "the item keeps the revision it was saved with")

		set := ask(dst, req{Op: messages.OpSet, Key: "c", Value: 3})
		Expect(set.Item.Revision).To(Equal(uint64(6)), "past the load's changes")
		Expect(set.Item.LastModified.After(snap.LastModified)).To(BeTrue())
	})

	It("prepares on any goroutine while it serves others", func() {
		o := NewOwner[string, int](Config{ReadIndex: true})
		mailbox := run(o)
		t0 := time.Now().Add(-time.Hour)
		entries := []messages.Entry[string, int]{{Key: "x", Item: &messages.Item[int]{Value: 1, Revision: 1, LastModified: t0}}}
		prepared := make(chan *table.Content[string, int], 1)
		go func() {
			defer GinkgoRecover()
			c, err := o.Prepare(1, itemsOf(entries), 1, t0)
			Expect(err).NotTo(HaveOccurred())
			prepared <- c
		}()
		for i := range 100 {
			ask(mailbox, req{Op: messages.OpSet, Key: "y", Value: i})
		}
		ask(mailbox, req{Op: messages.OpLoad, Args: &messages.Args[string, int]{Content: receive(prepared, "the content prepared off the owner")}})
		Expect(ask(mailbox, req{Op: messages.OpGet, Key: "x"}).Item.Value).To(Equal(1))
		Expect(ask(mailbox, req{Op: messages.OpGet, Key: "y"}).Status).To(Equal(messages.StatusNotFound))
	})
})
