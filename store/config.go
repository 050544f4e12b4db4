package store

import (
	"fmt"
	"time"
)

// Config configures a Store. Its zero value is valid: unlimited size, no
// expiry, no periodic sweep, two cleanup actors.
type Config struct {
	// MaxSize is the most items the store holds; 0 means unlimited.
	MaxSize int
	// WorkerCount is the number of cleanup actors; 0 means 2.
	WorkerCount int
	// CleanupInterval is how often the cleanup actors sweep expired items
	// away; 0 means never. Expired items are never returned or counted
	// whether or not a sweep has run: sweeps only give their memory back.
	CleanupInterval time.Duration
	// TTL is the time-to-live Set gives items; 0 means they never expire.
	TTL time.Duration
	// Eviction says what a full store does with a new key.
	Eviction EvictionPolicy
	// MailboxSize is the owner's mailbox capacity; 0 means 1024. A caller
	// that finds it full waits to send, which costs it a second park and
	// wake-up, and the owner the work of waking it: size it to the
	// goroutines that call the store at once. Each slot holds a request,
	// 72 bytes with an int value, more with a larger value type.
	MailboxSize int
	// LockFreeReads makes Get skip the owner: the owner, still the only
	// goroutine that ever changes the store, publishes every change into
	// its index (the store's map, in every design) before it replies, and
	// Get probes that index with atomic loads alone — no message, no
	// lock, no compare-and-swap. A Get
	// sees every write that returned before it began. Everything else,
	// GetMany included (an atomic read of several keys), stays a message.
	// The mutex design ignores it: its reads already share a read lock.
	// It cannot be combined with TouchOnGet.
	LockFreeReads bool
	// TouchOnGet makes every Get and GetMany hit (GetOrLoad's too) slide
	// the item's expiry, as Touch does: an item read often enough never
	// expires. New refuses it together with LockFreeReads (a lock-free
	// Get writes nothing, so it cannot touch), in both designs, so that
	// one Config means the same thing in each.
	TouchOnGet bool
}

// The defaults a zero Config field stands for.
const (
	defaultWorkerCount = 2
	// A buffered mailbox lets callers queue while the owner works, so a
	// burst costs one wake-up of the owner rather than one per request.
	// 1024 holds a request from each of 1000 callers: at 1000 goroutines
	// it made the median Set and Update throughput ~1.4× that of 512,
	// where senders waited for room (cmd/compare, 6 runs, 2 cores).
	defaultMailboxSize = 1024
)

// EvictionPolicy says what a store at MaxSize does with a new key.
type EvictionPolicy int

const (
	// RejectWhenFull refuses a new key with ErrStoreFull; updates of
	// existing keys still succeed. It is the zero value.
	RejectWhenFull EvictionPolicy = iota
	// EvictOldest drops the least recently modified item to make room, in
	// O(1).
	EvictOldest
)

// String returns the policy's name.
func (p EvictionPolicy) String() string {
	switch p {
	case RejectWhenFull:
		return "RejectWhenFull"
	case EvictOldest:
		return "EvictOldest"
	}
	return fmt.Sprintf("EvictionPolicy(%d)", int(p))
}

// WithDefaults returns c with each zero field that stands for a default
// set to it, or an error matching ErrInvalidConfig that names the first
// field out of range. New calls it; so does the mutex design.
func (c Config) WithDefaults() (Config, error) {
	for _, f := range []struct {
		name     string
		negative bool
		value    any
	}{
		{"MaxSize", c.MaxSize < 0, c.MaxSize},
		{"WorkerCount", c.WorkerCount < 0, c.WorkerCount},
		{"CleanupInterval", c.CleanupInterval < 0, c.CleanupInterval},
		{"TTL", c.TTL < 0, c.TTL},
		{"MailboxSize", c.MailboxSize < 0, c.MailboxSize},
	} {
		if f.negative {
			return c, fmt.Errorf("%w: %s is negative (%v)", ErrInvalidConfig, f.name, f.value)
		}
	}
	if c.Eviction != RejectWhenFull && c.Eviction != EvictOldest {
		return c, fmt.Errorf("%w: Eviction is unknown (%v)", ErrInvalidConfig, c.Eviction)
	}
	if c.TouchOnGet && c.LockFreeReads {
		return c, fmt.Errorf("%w: TouchOnGet and LockFreeReads cannot be combined (a lock-free Get cannot write)", ErrInvalidConfig)
	}
	if c.WorkerCount == 0 {
		c.WorkerCount = defaultWorkerCount
	}
	if c.MailboxSize == 0 {
		c.MailboxSize = defaultMailboxSize
	}
	return c, nil
}
