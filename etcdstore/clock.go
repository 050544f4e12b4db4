package etcdstore

import (
	"sync/atomic"
	"time"
)

// clock gives a store's LastModified times: the wall clock, but strictly
// increasing across the store's writes, and above every LastModified the
// store has read (observe), so that a write made after reading an item is
// later than that item even when the writer's wall clock is behind the
// clock that wrote it.
type clock struct {
	last atomic.Int64 // Unix nanoseconds
}

// next returns the LastModified of a new write.
func (c *clock) next() int64 {
	for {
		last := c.last.Load()
		n := max(time.Now().UnixNano(), last+1)
		if c.last.CompareAndSwap(last, n) {
			return n
		}
	}
}

// observe makes every later next above t.
func (c *clock) observe(t int64) {
	for {
		last := c.last.Load()
		if t <= last || c.last.CompareAndSwap(last, t) {
			return
		}
	}
}
