// Package testclock holds clocks that tests hand to a store in place of
// the wall clock (store.WithClock, mutexstore.WithClock), to make it read
// times a real clock gives only now and then. It is used only from tests;
// it is a package of its own, not a _test.go file, so that the tests of
// several packages share one copy.
package testclock

import (
	"sync/atomic"
	"time"
)

// AheadOnce is a clock that stands at At but reads an hour later once, at
// the first look after Ahead is set: the look before it and the look
// after it then disagree, as a wall clock that steps back between them
// makes them. Now is safe to call from several goroutines.
type AheadOnce struct {
	// At is the time the clock reads, but for the one look ahead.
	At time.Time
	// Ahead, once set, makes the next look read At plus an hour. That
	// look clears it, so a test can tell whether the look it is after
	// happened.
	Ahead atomic.Bool
}

// Now returns At, or At plus an hour if Ahead is set, clearing Ahead.
func (c *AheadOnce) Now() time.Time {
	if c.Ahead.Swap(false) {
		return c.At.Add(time.Hour)
	}
	return c.At
}
