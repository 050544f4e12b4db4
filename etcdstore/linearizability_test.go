package etcdstore_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// Linearizability: histories of Set, Get, Delete, CompareAndSet, GetMany
// and SetMany, recorded from 8 clients — each its own etcd client and
// Store, as 8 processes would be — against the three-member cluster, are
// checked with porcupine against a sequential model of the store.
//
// The model is the in-process suite's (linearizability_test.go at the
// root), adapted to what etcd promises:
//
//   - Revisions are store-wide and strictly increasing per transaction, so
//     the model learns them from outputs as the in-process one does: a
//     write whose output shows no revision (Set, SetMany) gets an interval
//     (above every revision known when it took effect, below the first
//     known revision of a later write), pinned by the first output that
//     shows it.
//   - The items of one SetMany share one revision (the transaction's):
//     they carry the batch they came from, and pinning one pins them all.
//     Items of different writes never share a revision.
//   - A call that failed (ErrCluster: a member stopped under it) may or
//     may not have taken effect. A failed read is left out; a failed write
//     is kept with no output and a return at the end of time, so porcupine
//     may place it anywhere after its call, or after everything (where it
//     changes nothing seen). Its step is deterministic: a Set or SetMany
//     writes, a Delete deletes, a CompareAndSet writes iff its comparison
//     holds, each with a revision the model does not know.
//
// The model bites: TestLinearizabilityModelBites at the root shows the
// in-process version rejecting broken histories; here a recorded history
// with one read corrupted must be rejected too.

const linMaxKeys = 6

var linKeyNames = [linMaxKeys]string{"k0", "k1", "k2", "k3", "k4", "k5"}

type linOpKind uint8

const (
	linGet linOpKind = iota
	linSet
	linDelete
	linCAS
	linGetMany
	linSetMany
)

type linInput struct {
	kind   linOpKind
	key    int
	value  int
	rev    uint64
	keys   []int
	values []int
	failed bool // the call returned an error: its outcome is unknown
}

type linRead struct {
	found bool
	value int
	rev   uint64
}

type linOutput struct {
	read  linRead
	found bool
	ok    bool
	rev   uint64
	reads []linRead
}

// linKey is the model's state of one key; batch is the SetMany it was
// written by (its first value), 0 for any other write.
type linKey struct {
	present     bool
	value       int
	batch       int
	rev, lo, hi uint64
}

type linState struct {
	keys  [linMaxKeys]linKey
	floor uint64
}

// learn pins the revision of key k's item (and of its batch's) to rev, or
// reports that it cannot be rev.
func (s *linState) learn(k int, rev uint64) bool {
	ks := &s.keys[k]
	if ks.rev != 0 {
		return ks.rev == rev
	}
	if rev <= ks.lo || (ks.hi != 0 && rev >= ks.hi) {
		return false
	}
	for i := range s.keys {
		o := &s.keys[i]
		if i != k && o.present && o.rev == rev && (ks.batch == 0 || o.batch != ks.batch) {
			return false
		}
	}
	for i := range s.keys {
		if o := &s.keys[i]; i == k || (ks.batch != 0 && o.present && o.batch == ks.batch) {
			o.rev, o.lo, o.hi = rev, 0, 0
		}
	}
	s.floor = max(s.floor, rev)
	return true
}

func (s *linState) observe(k int, r linRead) bool {
	ks := &s.keys[k]
	if !r.found {
		return !ks.present
	}
	return ks.present && ks.value == r.value && s.learn(k, r.rev)
}

func (s *linState) writeUnknown(k, value, batch int) {
	s.keys[k] = linKey{present: true, value: value, batch: batch, lo: s.floor}
}

func (s *linState) writeKnown(k, value int, rev uint64) bool {
	if rev <= s.floor {
		return false
	}
	for i := range s.keys {
		if ks := &s.keys[i]; i != k && ks.present && ks.rev == 0 && ks.hi == 0 {
			ks.hi = rev
		}
	}
	s.keys[k] = linKey{present: true, value: value, rev: rev}
	s.floor = rev
	return true
}

func linStep(s linState, in linInput, out linOutput) (bool, linState) {
	if in.failed {
		switch in.kind {
		case linSet:
			s.writeUnknown(in.key, in.value, 0)
		case linSetMany:
			for i, k := range in.keys {
				s.writeUnknown(k, in.values[i], in.values[0])
			}
		case linDelete:
			s.keys[in.key] = linKey{}
		case linCAS:
			ks := s.keys[in.key]
			if (in.rev == 0 && !ks.present) || (in.rev != 0 && ks.present && s.learn(in.key, in.rev)) {
				s.writeUnknown(in.key, in.value, 0)
			}
		}
		return true, s
	}
	switch in.kind {
	case linGet:
		return s.observe(in.key, out.read), s
	case linSet:
		s.writeUnknown(in.key, in.value, 0)
		return true, s
	case linDelete:
		if out.found != s.keys[in.key].present {
			return false, s
		}
		s.keys[in.key] = linKey{}
		return true, s
	case linCAS:
		present := s.keys[in.key].present
		if out.ok {
			if (in.rev == 0 && present) || (in.rev != 0 && (!present || !s.learn(in.key, in.rev))) {
				return false, s
			}
			return s.writeKnown(in.key, in.value, out.rev), s
		}
		if out.rev == 0 {
			return !present && in.rev != 0, s
		}
		return present && out.rev != in.rev && s.learn(in.key, out.rev), s
	case linGetMany:
		for i, k := range in.keys {
			if !s.observe(k, out.reads[i]) {
				return false, s
			}
		}
		return true, s
	case linSetMany:
		for i, k := range in.keys {
			s.writeUnknown(k, in.values[i], in.values[0])
		}
		return true, s
	}
	panic(fmt.Sprintf("unknown operation kind %d", in.kind))
}

func linPartition(history []porcupine.Operation) [][]porcupine.Operation {
	var byKey [linMaxKeys][]porcupine.Operation
	for _, op := range history {
		in := op.Input.(linInput)
		if in.kind == linGetMany || in.kind == linSetMany {
			return [][]porcupine.Operation{history}
		}
		byKey[in.key] = append(byKey[in.key], op)
	}
	var parts [][]porcupine.Operation
	for _, part := range byKey {
		if len(part) > 0 {
			parts = append(parts, part)
		}
	}
	return parts
}

func linHash(state any) uint64 {
	s := state.(linState)
	h := uint64(14695981039346656037)
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	mix(s.floor)
	for _, k := range s.keys {
		if k.present {
			mix(1)
		} else {
			mix(0)
		}
		mix(uint64(k.value))
		mix(uint64(k.batch))
		mix(k.rev)
		mix(k.lo)
		mix(k.hi)
	}
	return h
}

func (r linRead) String() string {
	if !r.found {
		return "absent"
	}
	return fmt.Sprintf("%d@r%d", r.value, r.rev)
}

func linDescribe(input, output any) string {
	in, out := input.(linInput), output.(linOutput)
	failed := ""
	if in.failed {
		failed = " → failed (outcome unknown)"
	}
	switch in.kind {
	case linGet:
		return fmt.Sprintf("Get(%s) → %v", linKeyNames[in.key], out.read)
	case linSet:
		return fmt.Sprintf("Set(%s, %d)%s", linKeyNames[in.key], in.value, failed)
	case linDelete:
		return fmt.Sprintf("Delete(%s) → found %v%s", linKeyNames[in.key], out.found, failed)
	case linCAS:
		return fmt.Sprintf("CompareAndSet(%s, %d, r%d) → ok %v r%d%s", linKeyNames[in.key], in.value, in.rev, out.ok, out.rev, failed)
	case linGetMany:
		seen := make([]string, len(in.keys))
		for i, k := range in.keys {
			seen[i] = fmt.Sprintf("%s: %v", linKeyNames[k], out.reads[i])
		}
		return fmt.Sprintf("GetMany → {%s}", strings.Join(seen, ", "))
	case linSetMany:
		items := make([]string, len(in.keys))
		for i, k := range in.keys {
			items[i] = fmt.Sprintf("%s: %d", linKeyNames[k], in.values[i])
		}
		return fmt.Sprintf("SetMany{%s}%s", strings.Join(items, ", "), failed)
	}
	return fmt.Sprintf("%+v → %+v", in, out)
}

var linModel = porcupine.Model{
	Partition: linPartition,
	Init:      func() any { return linState{} },
	Step: func(state, input, output any) (bool, any) {
		return linStep(state.(linState), input.(linInput), output.(linOutput))
	},
	Equal:             func(a, b any) bool { return a.(linState) == b.(linState) },
	Hash:              linHash,
	DescribeOperation: linDescribe,
}

// linParams shapes one history.
type linParams struct {
	clients, opsEach, keys int
	multiKey               bool
}

type linClient struct {
	id     int
	p      linParams
	rng    *rand.Rand
	s      *intStore
	base   time.Time
	seq    int
	last   [linMaxKeys]uint64
	maxRev uint64
	ops    []porcupine.Operation
	failed int
	err    error
}

func (c *linClient) value() int {
	c.seq++
	return (c.id+1)*1_000_000 + c.seq
}

func (c *linClient) next() linInput {
	key := c.rng.IntN(c.p.keys)
	n := c.rng.IntN(100)
	if c.p.multiKey {
		switch {
		case n < 15:
			return linInput{kind: linGetMany, keys: c.rng.Perm(c.p.keys)[:2+c.rng.IntN(c.p.keys-1)]}
		case n < 25:
			keys := c.rng.Perm(c.p.keys)[:2+c.rng.IntN(c.p.keys-1)]
			values := make([]int, len(keys))
			for i := range values {
				values[i] = c.value()
			}
			return linInput{kind: linSetMany, keys: keys, values: values}
		}
		n = c.rng.IntN(100)
	}
	switch {
	case n < 30:
		return linInput{kind: linGet, key: key}
	case n < 55:
		return linInput{kind: linSet, key: key, value: c.value()}
	case n < 70:
		return linInput{kind: linDelete, key: key}
	}
	in := linInput{kind: linCAS, key: key, value: c.value(), rev: c.last[key]}
	switch m := c.rng.IntN(100); {
	case m < 20:
		in.rev = 0
	case m < 35:
		in.rev = c.rng.Uint64N(c.maxRev+4) + 1
	}
	return in
}

func (c *linClient) saw(key int, rev uint64) {
	c.last[key] = rev
	c.maxRev = max(c.maxRev, rev)
}

// do runs in; an error matching ErrCluster is a failed call, any other
// error one the store must not give.
func (c *linClient) do(in linInput) (linOutput, error) {
	var out linOutput
	var err error
	switch in.kind {
	case linGet:
		var item *store.Item[int]
		item, err = c.s.Get(linKeyNames[in.key])
		if err == nil {
			out.read = linRead{found: true, value: item.Value, rev: item.Revision}
			c.saw(in.key, item.Revision)
		} else if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
	case linSet:
		err = c.s.Set(linKeyNames[in.key], in.value)
	case linDelete:
		err = c.s.Delete(linKeyNames[in.key])
		out.found = err == nil
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
	case linCAS:
		var item *store.Item[int]
		item, err = c.s.CompareAndSet(linKeyNames[in.key], in.value, in.rev)
		var conflict *store.ConflictError
		switch {
		case err == nil:
			out.ok, out.rev = true, item.Revision
			c.saw(in.key, item.Revision)
		case errors.As(err, &conflict):
			out.rev, err = conflict.Revision, nil
			c.saw(in.key, conflict.Revision)
		}
	case linGetMany:
		names := make([]string, len(in.keys))
		for i, k := range in.keys {
			names[i] = linKeyNames[k]
		}
		var items map[string]*store.Item[int]
		if items, err = c.s.GetMany(names); err == nil {
			out.reads = make([]linRead, len(in.keys))
			for i, k := range in.keys {
				if item := items[names[i]]; item != nil {
					out.reads[i] = linRead{found: true, value: item.Value, rev: item.Revision}
					c.saw(k, item.Revision)
				}
			}
		}
	case linSetMany:
		items := make(map[string]int, len(in.keys))
		for i, k := range in.keys {
			items[linKeyNames[k]] = in.values[i]
		}
		err = c.s.SetMany(items)
	}
	return out, err
}

// run records the client's operations, timed with the monotonic clock
// just before the call and just after the return; onOp is called after
// each.
func (c *linClient) run(onOp func()) {
	for range c.p.opsEach {
		in := c.next()
		call := int64(time.Since(c.base))
		out, err := c.do(in)
		ret := int64(time.Since(c.base))
		onOp()
		switch {
		case err == nil:
		case !errors.Is(err, etcdstore.ErrCluster):
			c.err = fmt.Errorf("client %d: %s: %w", c.id, linDescribe(in, out), err)
			return
		case in.kind == linGet || in.kind == linGetMany:
			c.failed++
			continue // a failed read changed nothing
		default:
			c.failed++
			in.failed, out, ret = true, linOutput{}, math.MaxInt64
		}
		c.ops = append(c.ops, porcupine.Operation{ClientId: c.id, Input: in, Call: call, Output: out, Return: ret})
	}
}

// linRecord records one history from p.clients clients of cl, each with a
// client and store of its own under one new prefix. disrupt, if not nil,
// runs beside them and is told how many operations have completed.
func linRecord(cl *cluster, p linParams, seed uint64, disrupt func(done *atomic.Int64)) (history []porcupine.Operation, failed int) {
	GinkgoHelper()
	prefix := newPrefix()
	clients := make([]*linClient, p.clients)
	base := time.Now()
	for i := range clients {
		s := running[int](clientOf(cl), etcdstore.Config{Prefix: prefix})
		clients[i] = &linClient{id: i, p: p, rng: rand.New(rand.NewPCG(seed, uint64(i))), s: s, base: base}
	}
	var completed atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			<-start
			c.run(func() { completed.Add(1) })
		})
	}
	disrupted := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(disrupted)
		if disrupt != nil {
			disrupt(&completed)
		}
	}()
	close(start)
	waitFor(&wg, fmt.Sprintf("the %d clients' operations (seed %d)", p.clients, seed))
	Eventually(disrupted).WithTimeout(hang).Should(BeClosed(), "the disruption to end")
	for _, c := range clients {
		Expect(c.err).NotTo(HaveOccurred(), "seed %d", seed)
		history = append(history, c.ops...)
		failed += c.failed
	}
	return history, failed
}

// linCheck fails the spec unless history is linearizable, writing
// porcupine's visualisation to a file it names.
func linCheck(history []porcupine.Operation, what string) {
	GinkgoHelper()
	result, info := porcupine.CheckOperationsVerbose(linModel, history, 30*time.Second)
	if result == porcupine.Ok {
		return
	}
	path := "(none)"
	if f, err := os.CreateTemp("", "etcdstore-linearizability-*.html"); err == nil {
		if porcupine.Visualize(linModel, info, f) == nil {
			path = f.Name()
		}
		_ = f.Close()
	}
	Fail(fmt.Sprintf("%s: porcupine says %s for %d operations; visualisation: %s", what, result, len(history), path))
}

var _ = Describe("linearizability", func() {
	singleKey := linParams{clients: 8, opsEach: 40, keys: 4}
	multiKey := linParams{clients: 8, opsEach: 30, keys: 4, multiKey: true}

	DescribeTable("histories from 8 clients of the three-member cluster are linearizable",
		func(p linParams) {
			for range 2 {
				seed := rand.Uint64()
				history, failed := linRecord(trio, p, seed, nil)
				Expect(failed).To(BeZero(), "no call fails while every member runs")
				linCheck(history, fmt.Sprintf("seed %d", seed))
			}
		},
		Entry("single-key operations", singleKey),
		Entry("with GetMany and SetMany", multiKey),
	)

	It("a history with one read corrupted is not: the model bites", func() {
		seed := rand.Uint64()
		history, _ := linRecord(trio, multiKey, seed, nil)
		linCheck(history, fmt.Sprintf("seed %d", seed))
		corrupted := false
		for i := range history {
			in, out := history[i].Input.(linInput), history[i].Output.(linOutput)
			if in.kind == linGet && out.read.found {
				out.read.value = -1
				history[i].Output, corrupted = out, true
				break
			}
		}
		Expect(corrupted).To(BeTrue(), "seed %d: no read found an item", seed)
		Expect(porcupine.CheckOperations(linModel, history)).To(BeFalse())
	})

	DescribeTable("histories stay linearizable while one member is stopped and restarted mid-history",
		func(p linParams, leader bool) {
			c := ownCluster(3)
			seed := rand.Uint64()
			total := int64(p.clients * p.opsEach)
			history, failed := linRecord(c, p, seed, func(done *atomic.Int64) {
				Eventually(done.Load).WithTimeout(time.Minute).Should(BeNumerically(">=", total/4))
				victim := 1
				for i, m := range c.members {
					if isLeader := m.etcd.Server.Leader() == m.etcd.Server.MemberID(); isLeader == leader {
						victim = i
						break
					}
				}
				c.stop(victim)
				Eventually(done.Load).WithTimeout(time.Minute).Should(BeNumerically(">=", total/2))
				Expect(c.restart(victim)).To(Succeed())
			})
			AddReportEntry("history", fmt.Sprintf("seed %d: %d operations recorded, %d calls failed while the member was down", seed, len(history), failed))
			linCheck(history, fmt.Sprintf("seed %d", seed))
		},
		Entry("a follower, single-key operations", singleKey, false),
		Entry("the leader, with GetMany and SetMany", multiKey, true),
	)
})
