package stripe

import (
	"runtime"
	"sync"
	"unsafe"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("Counter", func() {
	It("pads every stripe to its own pair of cache lines", func() {
		Expect(unsafe.Sizeof(cell{})).To(BeEquivalentTo(lineSize))
	})

	It("has a power-of-two number of stripes, at least four per P", func() {
		c := New()
		Expect(len(c.cells) & (len(c.cells) - 1)).To(BeZero())
		Expect(c.mask).To(BeEquivalentTo(len(c.cells) - 1))
		Expect(len(c.cells)).To(BeNumerically(">=", 4*runtime.GOMAXPROCS(0)))
	})

	It("starts at zero and sums what was added", func() {
		c := New()
		Expect(c.Load()).To(BeZero())
		c.Inc()
		c.Add(41)
		c.Add(0)
		Expect(c.Load()).To(BeEquivalentTo(42))
	})

	It("wraps around like a uint64", func() {
		c := New()
		c.Add(^uint64(0))
		c.Add(2)
		Expect(c.Load()).To(BeEquivalentTo(1))
	})

	Context("with many goroutines", func() {
		var leaks goleak.Option
		BeforeEach(func() { leaks = goleak.IgnoreCurrent() })
		AfterEach(func() { Expect(goleak.Find(leaks)).To(Succeed()) })

		It("is exact once every Add has returned", func() {
			const goroutines, adds = 8, 10000
			c := New()
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range adds {
						if i%2 == 0 {
							c.Inc()
						} else {
							c.Add(uint64(g))
						}
					}
				})
			}
			waitFor(&wg, "the 8 adders to finish")
			// Each goroutine adds adds/2 ones and adds/2 times its number.
			want := uint64(goroutines*adds/2 + adds/2*(goroutines*(goroutines-1)/2))
			Expect(c.Load()).To(Equal(want))
		})

		It("never reports less than the Adds that returned before Load", func() {
			c := New()
			done := make(chan struct{})
			returned := make(chan uint64)
			go func() {
				defer close(returned)
				for n := uint64(1); ; n++ {
					c.Inc()
					select {
					case returned <- n:
					case <-done:
						return
					}
				}
			}()
			for range 1000 {
				var n uint64
				Eventually(returned).WithTimeout(hang).Should(Receive(&n), "the adder's next Inc")
				Expect(c.Load()).To(BeNumerically(">=", n))
			}
			close(done)
			// Each poll takes at most one more count, so the adder is
			// drained until it sees done.
			Eventually(returned).WithTimeout(hang).Should(BeClosed(), "the adder to stop")
		})
	})
})
