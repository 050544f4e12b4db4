package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lastmodstore/lastmodstore/internal/gate"
	"github.com/lastmodstore/lastmodstore/store"
)

// Store is lastmodstore's API over an etcd cluster: the method set of
// store.Store[string, V], its items and errors, with the items kept in the
// cluster under Config.Prefix. Its methods are safe for concurrent use,
// and any number of Stores, in any number of processes, may share a prefix.
//
// Create one with New, then Start it; every operation on a store that is
// not running returns store.ErrNotRunning. The items live in the cluster,
// so they outlive Shutdown, and the process.
type Store[V any] struct {
	cli      *clientv3.Client
	cfg      Config
	opts     settings[V]
	end      string // the end of the prefix's key range
	clock    clock
	leases   *leases
	current  atomic.Pointer[run] // nil when not running
	watchers atomic.Int64
	stats    counters
}

// counters are the Stats this client keeps.
type counters struct {
	hits, misses, writes, deletes atomic.Uint64
}

// run is one Start-to-stop life of a store.
type run struct {
	gate     gate.Gate
	ctx      context.Context // done when the run stops: ends the watches
	cancel   context.CancelFunc
	watcher  clientv3.Watcher // the run's own, closed when it stops
	watches  sync.WaitGroup
	detach   atomic.Pointer[func() bool] // unregisters the stop on Start's context
	stopOnce sync.Once
	stopped  atomic.Bool
	finished chan struct{}
}

// New returns a store over cli configured by cfg and opts, not yet
// started. cli stays the caller's: the store never closes it. New sends
// nothing to the cluster.
//
// New returns an error matching store.ErrInvalidConfig, naming what is
// wrong, for a nil cli, an empty Prefix, a negative RequestTimeout or TTL,
// a non-zero MaxSize, an Eviction other than RejectWhenFull, or a bad
// option.
func New[V any](cli *clientv3.Client, cfg Config, opts ...Option[V]) (*Store[V], error) {
	if cli == nil {
		return nil, fmt.Errorf("%w: nil etcd client", store.ErrInvalidConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	settings, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	return &Store[V]{
		cli:    cli,
		cfg:    cfg,
		opts:   settings,
		end:    clientv3.GetPrefixRangeEnd(cfg.Prefix),
		leases: newLeases(cli.Lease),
	}, nil
}

// Start lets the store take calls and returns at once; it sends nothing to
// the cluster, so it succeeds whether or not the cluster is reachable.
// Cancelling ctx later stops the store gracefully, as Shutdown does.
//
// Start returns store.ErrNilContext for a nil ctx, ctx.Err() for a ctx
// already done, store.ErrAlreadyRunning when the store is running, and
// store.ErrNotRunning on a nil store. Called while a stop is under way, it
// waits for the stop to finish and then starts the store again.
func (s *Store[V]) Start(ctx context.Context) error {
	if s == nil {
		return store.ErrNotRunning
	}
	if ctx == nil {
		return store.ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := s.newRun()
	for !s.current.CompareAndSwap(nil, r) {
		old := s.current.Load()
		if old == nil {
			continue
		}
		if !old.gate.Closed() {
			s.stop(r)
			return store.ErrAlreadyRunning
		}
		<-old.finished
	}
	detach := context.AfterFunc(ctx, func() { s.stop(r) })
	r.detach.Store(&detach)
	// A stop that ran before the Store could not unregister it.
	if r.stopped.Load() {
		detach()
	}
	return nil
}

func (s *Store[V]) newRun() *run {
	ctx, cancel := context.WithCancel(context.Background())
	return &run{
		gate:     gate.New(),
		ctx:      ctx,
		cancel:   cancel,
		watcher:  clientv3.NewWatcher(s.cli),
		finished: make(chan struct{}),
	}
}

// stop stops r and returns once it has stopped: no new calls, every call
// in flight answered (each is bounded by RequestTimeout), every watch
// ended and its goroutines gone.
func (s *Store[V]) stop(r *run) {
	r.stopOnce.Do(func() {
		if detach := r.detach.Load(); detach != nil {
			(*detach)()
		}
		r.gate.Close()
		<-r.gate.Drained()
		r.cancel()
		r.watches.Wait()
		// The watcher's goroutines are the client library's, started for
		// this store's watches; closing it waits for them.
		_ = r.watcher.Close()
		r.stopped.Store(true)
		s.current.CompareAndSwap(r, nil)
		close(r.finished)
	})
	<-r.finished
}

// IsRunning reports whether the store takes calls: it has started and no
// stop has begun. It says nothing of the cluster's health.
func (s *Store[V]) IsRunning() bool {
	if s == nil {
		return false
	}
	r := s.current.Load()
	return r != nil && !r.gate.Closed()
}

// Shutdown stops the store and blocks until it has stopped: new calls get
// store.ErrNotRunning at once, every call in flight gets its answer (from
// the cluster, or an error once its RequestTimeout has passed), every
// watch ends with store.ErrNotRunning, and every goroutine the store
// started has exited. The client stays open: it is the caller's.
//
// Shutdown is idempotent, safe to call concurrently, and returns nil, also
// before Start and on a nil store.
func (s *Store[V]) Shutdown() error {
	if s == nil {
		return nil
	}
	if r := s.current.Load(); r != nil {
		s.stop(r)
	}
	return nil
}

// Err returns nil: a store over etcd has no actors that can fail, and it
// stops only when asked to. It is here so that the store has the method
// set of store.Store.
func (s *Store[V]) Err() error { return nil }

// call is one operation admitted into a run.
type call struct {
	ctx    context.Context // bounded by RequestTimeout
	cancel context.CancelFunc
	r      *run
}

// enter admits an operation into the running store.
func (s *Store[V]) enter() (call, error) {
	if s == nil {
		return call{}, store.ErrNotRunning
	}
	r := s.current.Load()
	if r == nil || !r.gate.Enter() {
		return call{}, store.ErrNotRunning
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	return call{ctx: ctx, cancel: cancel, r: r}, nil
}

// done ends the operation.
func (c call) done() {
	c.cancel()
	c.r.gate.Leave()
}

// key returns the etcd key of k.
func (s *Store[V]) key(k string) string { return s.cfg.Prefix + k }

// userKey returns the store key of an etcd key under the prefix.
func (s *Store[V]) userKey(k []byte) string {
	return strings.TrimPrefix(string(k), s.cfg.Prefix)
}

// clusterErr wraps an error of the cluster or the client library.
func clusterErr(op, key string, err error) error {
	if key == "" {
		return fmt.Errorf("%w: %s: %w", errCluster, op, err)
	}
	return fmt.Errorf("%w: %s %q: %w", errCluster, op, key, err)
}

// errCluster is ErrCluster matching store.ErrUnavailable as well, so that
// a caller (lastmodhttp, say) that knows nothing of etcd can tell a
// cluster that cannot answer from a bug.
var errCluster = fmt.Errorf("%w (%w)", ErrCluster, store.ErrUnavailable)

// decodeLive returns the item of a stored value, nil when it has expired
// at now (Unix nanoseconds).
func (s *Store[V]) decodeLive(kv *mvccpb.KeyValue, now int64) (*store.Item[V], error) {
	h, payload, err := s.decodeHeader(kv)
	if err != nil || h.expired(now) {
		return nil, err
	}
	return s.decodePayload(kv, h, payload)
}

// decodeHeader reads the header of a stored value, without decoding the
// value itself, and observes its LastModified (see clock).
func (s *Store[V]) decodeHeader(kv *mvccpb.KeyValue) (header, []byte, error) {
	h, payload, err := decodeEnvelope(kv.Value)
	if err != nil {
		return h, nil, fmt.Errorf("%w: key %q: %v", ErrCorruptValue, s.userKey(kv.Key), err)
	}
	s.clock.observe(h.modified)
	return h, payload, nil
}

func (s *Store[V]) decodePayload(kv *mvccpb.KeyValue, h header, payload []byte) (*store.Item[V], error) {
	v, err := s.opts.codec.Decode(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %w", ErrCorruptValue, s.userKey(kv.Key), err)
	}
	return newItem(v, h, kv.ModRevision), nil
}

func newItem[V any](v V, h header, rev int64) *store.Item[V] {
	item := &store.Item[V]{Value: v, LastModified: time.Unix(0, h.modified), Revision: uint64(rev)}
	if h.expires != 0 {
		item.ExpiresAt = time.Unix(0, h.expires)
	}
	return item
}

// encode returns the envelope of value, written now with ttl (0: never
// expires).
func (s *Store[V]) encode(key string, value V, ttl time.Duration) ([]byte, header, error) {
	payload, err := s.opts.codec.Encode(value)
	if err != nil {
		return nil, header{}, encodeErr(key, err)
	}
	h := s.header(ttl)
	return encodeEnvelope(h, payload), h, nil
}

// header returns the header of an item written now with ttl.
func (s *Store[V]) header(ttl time.Duration) header {
	h := header{modified: s.clock.next()}
	if ttl > 0 {
		h.expires = h.modified + min(int64(ttl), maxExpiry-h.modified)
	}
	return h
}

func encodeErr(key string, err error) error {
	return fmt.Errorf("%w: key %q: %w", ErrEncode, key, err)
}

// maxExpiry is the latest ExpiresAt an envelope can hold: TTLs reaching
// past it (in the year 2262) end there.
const maxExpiry = 1<<63 - 1

// withLease runs write with the lease an item of h needs (none when it
// never expires), and once more with a new lease if the cluster no longer
// has the one it was given.
func (s *Store[V]) withLease(ctx context.Context, h header, write func(opts ...clientv3.OpOption) error) error {
	if h.expires == 0 {
		return write()
	}
	for retried := false; ; retried = true {
		id, sec, err := s.leases.forExpiry(ctx, h.expires)
		if err != nil {
			return err
		}
		err = write(clientv3.WithLease(id))
		if errors.Is(err, rpctypes.ErrLeaseNotFound) && !retried {
			s.leases.forget(sec, id)
			continue
		}
		return err
	}
}
