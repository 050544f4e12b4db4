package etcdstore

import (
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// Config configures a Store. Prefix is required; every other zero field
// stands for its default.
type Config struct {
	// Prefix is the etcd key prefix the store keeps its items under: the
	// item of key k is the etcd key Prefix+k. It must not be empty, and no
	// two stores on one cluster should have prefixes of which one begins
	// the other ("app/" and "app/x/" would see each other's items): end
	// it with a separator such as "/".
	Prefix string
	// RequestTimeout bounds every call to the cluster, and so every
	// operation: past it the operation returns an error matching
	// ErrCluster and context.DeadlineExceeded. 0 means 5 seconds. An
	// operation that needs several requests (a conditional write that
	// retries, a List of many pages) shares one deadline among them.
	RequestTimeout time.Duration
	// TTL is the time-to-live Set, SetMany, CompareAndSet and
	// SetIfUnmodifiedSince give items; 0 means they never expire.
	TTL time.Duration
	// MaxSize must be 0: the store holds any number of items. A limit
	// would need every write to update one shared counter in the same
	// transaction — a single hot key that serialises all writers — and
	// expiry by lease, which the cluster carries out without a
	// transaction of ours, could not lower it. New refuses any other value
	// with store.ErrInvalidConfig rather than enforce it loosely.
	MaxSize int
	// Eviction must be store.RejectWhenFull, its zero value; with no
	// MaxSize nothing is ever evicted. New refuses store.EvictOldest with
	// store.ErrInvalidConfig.
	Eviction store.EvictionPolicy
}

// defaultRequestTimeout is the RequestTimeout of a zero Config.
const defaultRequestTimeout = 5 * time.Second

// withDefaults returns c with its defaults set, or an error matching
// store.ErrInvalidConfig that names the first field out of range.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Prefix == "":
		return c, fmt.Errorf("%w: Prefix is empty", store.ErrInvalidConfig)
	case c.RequestTimeout < 0:
		return c, fmt.Errorf("%w: RequestTimeout is negative (%v)", store.ErrInvalidConfig, c.RequestTimeout)
	case c.TTL < 0:
		return c, fmt.Errorf("%w: TTL is negative (%v)", store.ErrInvalidConfig, c.TTL)
	case c.MaxSize != 0:
		return c, fmt.Errorf("%w: MaxSize %d: a store over etcd has no size limit, MaxSize must be 0", store.ErrInvalidConfig, c.MaxSize)
	case c.Eviction != store.RejectWhenFull:
		return c, fmt.Errorf("%w: Eviction %v: a store over etcd evicts nothing, Eviction must be RejectWhenFull", store.ErrInvalidConfig, c.Eviction)
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	return c, nil
}
