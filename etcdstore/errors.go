package etcdstore

import (
	"errors"

	"github.com/lastmodstore/lastmodstore/store"
)

// The errors of this package, for errors.Is. The store's own conditions
// are reported with package store's sentinels (store.ErrNotFound,
// store.ErrNotRunning, store.ErrConflict through *store.ConflictError,
// store.ErrInvalidConfig, store.ErrInvalidTTL, store.ErrNilContext,
// store.ErrAlreadyRunning, store.ErrWatchLagging); these are what only a
// store over a cluster can meet.
var (
	// ErrCluster is matched by the error of a call the cluster did not
	// carry out: it was not reached within Config.RequestTimeout (the
	// error then also matches context.DeadlineExceeded), or it refused
	// the request (too many operations in one transaction, a request too
	// large, no leader). A write that fails with ErrCluster may or may not
	// have taken effect: the cluster may have applied it after the client
	// stopped waiting. Such an error matches store.ErrUnavailable too, so
	// that code written for any store (lastmodhttp answers it with a 503)
	// can tell it from a bug.
	ErrCluster = errors.New("etcdstore: cluster request failed")
	// ErrEncode is matched by the error of a write whose value the codec
	// could not encode; the codec's own error is wrapped too. Nothing is
	// written.
	ErrEncode = errors.New("etcdstore: cannot encode value")
	// ErrCorruptValue is matched by the error of a read that met, under
	// the store's prefix, a stored value it cannot decode: one that was
	// not written by this package (a foreign value), is damaged, or holds
	// a payload the codec refuses. The error names the key, and wraps the
	// codec's error when the codec refused. Delete removes such a value.
	ErrCorruptValue = errors.New("etcdstore: corrupt stored value")
	// ErrCompacted is store.ErrCompacted: WatchFrom returns, and a watch
	// that could not resume ends with, a *store.CompactedError matching
	// it when the cluster has compacted away the revisions still to be
	// delivered.
	ErrCompacted = store.ErrCompacted
)
