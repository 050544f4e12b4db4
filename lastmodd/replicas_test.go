package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// replicas are three lastmodd processes over one three-member etcd
// cluster of processes, and a Client of each.
type replicas struct {
	cluster *etcdCluster
	args    []string // what each lastmodd was started with
	daemons []*daemon
	clients []*lastmodhttp.Client[int]
}

// startReplicas starts the cluster and the three replicas, each given
// every member's endpoint.
func startReplicas() *replicas {
	GinkgoHelper()
	r := &replicas{cluster: startEtcd(3)}
	r.args = []string{"-addr", "127.0.0.1:0", "-etcd", r.cluster.endpoints()}
	for range 3 {
		d := r.start()
		r.daemons = append(r.daemons, d)
		r.clients = append(r.clients, clientOf(d))
	}
	return r
}

// start starts one more lastmodd over the cluster; the caller stops it.
func (r *replicas) start() *daemon {
	GinkgoHelper()
	return startDaemon(bin, r.args...)
}

// clientOf is a Client of d's store.
func clientOf(d *daemon) *lastmodhttp.Client[int] {
	GinkgoHelper()
	c, err := lastmodhttp.NewClient[int](d.url+"/kv/", lastmodhttp.WithTimeout(20*time.Second))
	Expect(err).NotTo(HaveOccurred())
	return c
}

// close closes the clients, stops the replicas (each must exit 0) and
// kills the cluster.
func (r *replicas) close() {
	GinkgoHelper()
	for _, c := range r.clients {
		Expect(c.Close()).To(Succeed())
	}
	for _, d := range r.daemons {
		Expect(d.stop()).To(Succeed())
	}
	r.cluster.close()
}

// runAll runs each of fns in a goroutine of its own and returns once
// every one has returned, failing the spec if that takes over a minute.
func runAll(fns ...func()) {
	GinkgoHelper()
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() {
			defer GinkgoRecover()
			fn()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	Eventually(done).WithTimeout(time.Minute).Should(BeClosed())
}

var _ = Describe("lastmodd replicas over one etcd cluster, as processes", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	It("counts exactly under conditional increments raced by clients on every replica: the final value is the number of successful writes", func(ctx SpecContext) {
		r := startReplicas()
		defer r.close()
		const perWorker = 25
		var written, busy atomic.Int64
		var workers []func()
		for _, c := range r.clients {
			for range 2 {
				workers = append(workers, func() {
					for range perWorker {
						_, err := c.UpdateContext(ctx, "counter", func(item *store.Item[int]) (int, store.Op) {
							if item == nil {
								return 1, store.Write
							}
							return item.Value + 1, store.Write
						})
						switch {
						case err == nil:
							written.Add(1)
						case errors.Is(err, lastmodhttp.ErrBusy):
							busy.Add(1) // lost 100 races in a row: nothing written
						default:
							Expect(err).NotTo(HaveOccurred())
						}
					}
				})
			}
		}
		runAll(workers...)
		GinkgoWriter.Printf("%d increments written, %d gave up busy\n", written.Load(), busy.Load())
		Expect(written.Load()).To(BeNumerically(">", 0))
		var revision uint64
		for i, c := range r.clients {
			item, err := c.GetContext(ctx, "counter")
			Expect(err).NotTo(HaveOccurred())
			Expect(item.Value).To(BeEquivalentTo(written.Load()), "replica %d: one increment per successful write, none lost, none twice", i)
			if i == 0 {
				revision = item.Revision
			}
			Expect(item.Revision).To(Equal(revision), "the same revision, so the same ETag, on every replica")
		}
	}, SpecTimeout(2*time.Minute))

	It("continues a change stream read from replica A on replica B after A is killed with SIGKILL: nothing lost, nothing repeated", func(ctx SpecContext) {
		r := startReplicas()
		defer r.close()
		a := r.start()
		aClient := clientOf(a)
		defer aClient.Close()

		watchA, stopA := context.WithCancel(ctx)
		defer stopA()
		events, err := aClient.Watch(watchA)
		Expect(err).NotTo(HaveOccurred())

		// A writer on another replica, one key after another, each
		// acknowledged before the next: the stream must hold them in
		// this order.
		const total = 150
		key := func(i int) string { return fmt.Sprintf("s%03d", i) }
		written := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			for i := range total {
				if err := r.clients[0].SetContext(ctx, key(i), i); err != nil {
					written <- fmt.Errorf("set %s: %w", key(i), err)
					return
				}
			}
			written <- nil
		}()

		var seen []store.Event[string, int]
		for len(seen) < 40 {
			var ev store.Event[string, int]
			Eventually(events).WithTimeout(30 * time.Second).Should(Receive(&ev))
			Expect(ev.Kind).To(Equal(store.EventPut), "%+v", ev)
			seen = append(seen, ev)
		}
		By("SIGKILL to replica A while the writer goes on")
		Expect(a.cmd.Process.Kill()).To(Succeed())
		var exit *exec.ExitError
		Expect(errors.As(a.wait(), &exit)).To(BeTrue())
		// What A's stream had delivered is seen too; the watch is given
		// up (it would retry A until the Client's timeout).
		stopA()
		for ev := range events {
			if ev.Kind == store.EventPut {
				seen = append(seen, ev)
			}
		}
		fromA := len(seen)
		last := seen[len(seen)-1].Revision

		watchB, stopB := context.WithCancel(ctx)
		defer stopB()
		rest, err := r.clients[1].WatchFrom(watchB, last)
		Expect(err).NotTo(HaveOccurred())
		for seen[len(seen)-1].Key != key(total-1) {
			var ev store.Event[string, int]
			Eventually(rest).WithTimeout(30 * time.Second).Should(Receive(&ev))
			Expect(ev.Kind).To(Equal(store.EventPut), "%+v", ev)
			seen = append(seen, ev)
		}
		Eventually(written).WithTimeout(30 * time.Second).Should(Receive(BeNil()))
		stopB()
		for range rest {
		}
		GinkgoWriter.Printf("%d events from A before it was killed, %d from B after\n", fromA, len(seen)-fromA)
		Expect(fromA).To(BeNumerically("<", total), "A was killed before the writer was done")
		Expect(seen).To(HaveLen(total))
		for i, ev := range seen {
			Expect(ev.Key).To(Equal(key(i)), "event %d: every write once, in order", i)
			Expect(ev.Item.Value).To(Equal(i))
			if i > 0 {
				Expect(ev.Revision).To(BeNumerically(">", seen[i-1].Revision))
			}
		}
	}, SpecTimeout(2*time.Minute))

	It("loses no acknowledged write while each etcd member in turn is killed with SIGKILL and restarted, under writers on every replica", func(ctx SpecContext) {
		r := startReplicas()
		defer r.close()
		var acked atomic.Int64
		stop := make(chan struct{})
		acks := make([][]string, len(r.clients))
		var failed atomic.Int64
		var writers []func()
		for w, c := range r.clients {
			writers = append(writers, func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("w%d-%05d", w, n)
					if err := c.SetContext(ctx, key, n); err != nil {
						failed.Add(1) // not acknowledged: it may or may not have landed
						continue
					}
					acks[w] = append(acks[w], key)
					acked.Add(1)
				}
			})
		}
		writing := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(writing)
			runAll(writers...)
		}()
		// Writes go on between the kills, while each member is down, and
		// after it is back: the leader is one of them.
		moreAcks := func(what string) {
			GinkgoHelper()
			from := acked.Load()
			Eventually(acked.Load).WithTimeout(30*time.Second).Should(BeNumerically(">=", from+15), what)
		}
		moreAcks("writes acknowledged before any kill")
		for i := range r.cluster.members {
			r.cluster.kill(i)
			moreAcks(fmt.Sprintf("writes acknowledged with member %d down", i))
			r.cluster.restart(i)
			moreAcks(fmt.Sprintf("writes acknowledged with member %d back", i))
		}
		close(stop)
		Eventually(writing).WithTimeout(time.Minute).Should(BeClosed())
		GinkgoWriter.Printf("%d writes acknowledged, %d failed\n", acked.Load(), failed.Load())

		// Read back through another replica than the writer's.
		for w, keys := range acks {
			items, err := r.clients[(w+1)%len(r.clients)].GetManyContext(ctx, keys)
			Expect(err).NotTo(HaveOccurred())
			for n, key := range keys {
				Expect(items).To(HaveKey(key), "an acknowledged write")
				var want int
				_, err := fmt.Sscanf(key, fmt.Sprintf("w%d-%%d", w), &want)
				Expect(err).NotTo(HaveOccurred())
				Expect(items[key].Value).To(Equal(want), "key %s (ack %d)", key, n)
			}
		}
	}, SpecTimeout(3*time.Minute))

	It("keeps a linearizable history of reads, writes and compare-and-sets recorded through clients on every replica (porcupine)", func(ctx SpecContext) {
		r := startReplicas()
		defer r.close()
		const (
			keys      = 3
			perWorker = 50
		)
		start := time.Now()
		var (
			mu      sync.Mutex
			history []porcupine.Operation
		)
		record := func(client int, in regInput, out regOutput, call time.Time, failed bool) {
			ret := time.Since(start).Nanoseconds()
			if failed {
				// Its outcome is unknown: it may take effect any time
				// after its call, or never.
				ret, out = math.MaxInt64, regOutput{unknown: true}
			}
			mu.Lock()
			defer mu.Unlock()
			history = append(history, porcupine.Operation{
				ClientId: client, Input: in, Output: out,
				Call: call.Sub(start).Nanoseconds(), Return: ret,
			})
		}
		var workers []func()
		for w := range 2 * len(r.clients) {
			c := r.clients[w%len(r.clients)]
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			workers = append(workers, func() {
				for n := range perWorker {
					key := fmt.Sprintf("k%d", rng.IntN(keys))
					value := w*1000 + n + 1 // unique, so a revision stands for its value
					switch p := rng.IntN(10); {
					case p < 4:
						call := time.Now()
						item, err := c.GetContext(ctx, key)
						switch {
						case errors.Is(err, store.ErrNotFound):
							record(w, regInput{op: regGet, key: key}, regOutput{}, call, false)
						case err == nil:
							record(w, regInput{op: regGet, key: key}, regOutput{value: item.Value}, call, false)
						}
						// A read that failed changed nothing: left out.
					case p < 7:
						call := time.Now()
						err := c.SetContext(ctx, key, value)
						record(w, regInput{op: regPut, key: key, value: value}, regOutput{}, call, err != nil)
					default:
						// Compare-and-set on what a read saw: revision 0
						// (create only) for an absent key.
						call := time.Now()
						item, err := c.GetContext(ctx, key)
						var expect int
						var revision uint64
						switch {
						case errors.Is(err, store.ErrNotFound):
						case err == nil:
							expect, revision = item.Value, item.Revision
						default:
							continue
						}
						record(w, regInput{op: regGet, key: key}, regOutput{value: expect}, call, false)
						call = time.Now()
						_, err = c.CompareAndSetContext(ctx, key, value, revision)
						in := regInput{op: regCAS, key: key, value: value, expect: expect}
						var conflict *store.ConflictError
						switch {
						case err == nil:
							record(w, in, regOutput{ok: true}, call, false)
						case errors.As(err, &conflict), errors.Is(err, store.ErrConflict):
							record(w, in, regOutput{}, call, false)
						default:
							record(w, in, regOutput{}, call, true)
						}
					}
				}
			})
		}
		// A third of the way, the cluster's first member is killed, and
		// half-way it is started again: calls may fail with their
		// outcome unknown, and the history may span a new election.
		recorded := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(history)
		}
		faults := func() {
			planned := 2 * len(r.clients) * perWorker
			Eventually(recorded).WithTimeout(time.Minute).Should(BeNumerically(">=", planned/3))
			r.cluster.kill(0)
			Eventually(recorded).WithTimeout(time.Minute).Should(BeNumerically(">=", planned/2))
			r.cluster.restart(0)
		}
		runAll(append(workers, faults)...)
		unknown := 0
		for _, op := range history {
			if op.Output.(regOutput).unknown {
				unknown++
			}
		}
		GinkgoWriter.Printf("%d operations recorded, %d of unknown outcome\n", len(history), unknown)
		Expect(porcupine.CheckOperationsTimeout(registerModel, history, 30*time.Second)).To(Equal(porcupine.Ok))

		By("the model bites: one read made to see a value never written is found out")
		i := slices.IndexFunc(history, func(op porcupine.Operation) bool {
			return op.Input.(regInput).op == regGet && op.Output.(regOutput).value != 0
		})
		Expect(i).To(BeNumerically(">=", 0))
		broken := slices.Clone(history)
		broken[i].Output = regOutput{value: 999_999}
		Expect(porcupine.CheckOperationsTimeout(registerModel, broken, 30*time.Second)).To(Equal(porcupine.Illegal))
	}, SpecTimeout(2*time.Minute))
})

// A register per key, for porcupine: values are never 0, 0 stands for an
// absent key. Every write writes a value of its own, and nothing is
// deleted, so a key holds a value at one revision only, and a
// compare-and-set on the revision a read saw is one on the value it saw.
type regOp uint8

const (
	regGet regOp = iota
	regPut
	regCAS
)

type regInput struct {
	op     regOp
	key    string
	value  int // put, cas: the value written
	expect int // cas: the value it compares with (0: absent)
}

type regOutput struct {
	value   int  // get: the value read (0: not found)
	ok      bool // cas: it wrote
	unknown bool // put, cas: the call failed; it may or may not have written
}

var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(regInput).key
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range byKey {
				if !yield(k) {
					return
				}
			}
		}) {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(int), input.(regInput), output.(regOutput)
		switch in.op {
		case regGet:
			return out.value == s, s
		case regPut:
			return true, in.value
		}
		holds := s == in.expect
		switch {
		case out.unknown:
			if holds {
				return true, in.value
			}
			return true, s
		case out.ok:
			return holds, in.value
		}
		return !holds, s
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		switch in.op {
		case regGet:
			return fmt.Sprintf("get(%s) → %d", in.key, out.value)
		case regPut:
			return fmt.Sprintf("put(%s, %d) unknown=%v", in.key, in.value, out.unknown)
		}
		return fmt.Sprintf("cas(%s, %d → %d) → ok=%v unknown=%v", in.key, in.expect, in.value, out.ok, out.unknown)
	},
}
