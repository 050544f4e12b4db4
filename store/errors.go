package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/lastmodstore/lastmodstore/internal/snapshot"
	"github.com/lastmodstore/lastmodstore/supervisor"
)

// The errors the store returns, for errors.Is. Each method's documentation
// says which it returns.
var (
	// ErrInvalidConfig is returned by New and NewLastModifiedStore for a
	// Config or Option value out of range; the wrapping error names it.
	ErrInvalidConfig = errors.New("lastmodstore: invalid config")
	// ErrAlreadyRunning is returned by Start when the store is running.
	ErrAlreadyRunning = errors.New("lastmodstore: already running")
	// ErrNotFound is returned for a key that is absent or has expired.
	ErrNotFound = errors.New("lastmodstore: not found")
	// ErrNotRunning is returned by every operation on a store that is nil,
	// not started, stopping or stopped.
	ErrNotRunning = errors.New("lastmodstore: not running")
	// ErrNilContext is returned by Start and GetOrLoad for a nil context.
	ErrNilContext = errors.New("lastmodstore: nil context")
	// ErrStoreFull is returned when a new key does not fit under MaxSize
	// with the RejectWhenFull policy. Updates of existing keys still work.
	ErrStoreFull = errors.New("lastmodstore: store full")
	// ErrUnavailable is matched by the error of a call that a store kept
	// elsewhere could not answer for now: a cluster without a quorum, a
	// request past its timeout (etcdstore's ErrCluster matches it, and so
	// does lastmodhttp's Client for a server that answered 503 so). A
	// write that fails with it may or may not have taken effect. The
	// in-process designs never return it.
	ErrUnavailable = errors.New("lastmodstore: store unavailable")
	// ErrConflict is matched by the *ConflictError a conditional write
	// (CompareAndSet, SetIfUnmodifiedSince) returns when it finds the item
	// changed.
	ErrConflict = errors.New("lastmodstore: conflict")
	// ErrWatchLagging is the Err of the EventEnd that ends a watch whose
	// watcher fell behind by more than its buffer (WithWatchBuffer).
	ErrWatchLagging = errors.New("lastmodstore: watcher fell behind")
	// ErrInvalidTTL is returned for a negative per-call time-to-live.
	ErrInvalidTTL = errors.New("lastmodstore: invalid ttl")
	// ErrInvalidKey is returned for a key the store cannot hold: an
	// interface key holding a slice, map or func, which would make a Go map
	// panic, or a key holding a NaN (a float64, inside an interface, array
	// or struct), which is not equal to itself and so could never be found
	// or deleted again.
	ErrInvalidKey = errors.New("lastmodstore: invalid key")
	// ErrPanicked is returned by a call whose request was being handled
	// when the owner panicked. The supervisor restarts the owner with its
	// state; whether the interrupted request took effect is unknown.
	ErrPanicked = errors.New("lastmodstore: owner panicked during the request")
	// ErrNilArgument is returned for a nil argument an operation cannot
	// do without, such as the writer given to Save or the reader given to
	// Load; the wrapping error names it.
	ErrNilArgument = errors.New("lastmodstore: nil argument")
	// ErrLoadPanicked is matched by the error GetOrLoad returns to every
	// caller waiting for a load that panicked (or called runtime.Goexit);
	// the wrapping error carries the panic value. The store goes on.
	ErrLoadPanicked = errors.New("lastmodstore: load panicked")
	// ErrLoadCycle is returned by GetOrLoad when it is called, with the
	// ctx a load was given (or one derived from it), for a key that load
	// or a load it runs inside is loading: the call would wait for a load
	// that waits for it.
	ErrLoadCycle = errors.New("lastmodstore: GetOrLoad of a key its own load is loading")
	// ErrCompacted is matched by the *CompactedError WatchFrom returns,
	// and a replaying watch ends with, when the history no longer holds
	// every change after the revision asked for.
	ErrCompacted = errors.New("lastmodstore: revision compacted")
	// ErrUpdatePanicked is matched by the error Update returns when its
	// function panicked, called runtime.Goexit or returned an unknown Op;
	// the wrapping error carries the panic value. The Update changed
	// nothing and the store goes on.
	ErrUpdatePanicked = errors.New("lastmodstore: Update's function panicked")
	// ErrUpdateReentry is returned by every method called, on the same
	// store, from inside the function an Update is running: that call
	// would wait for the Update, which waits for it.
	ErrUpdateReentry = errors.New("lastmodstore: call into the store from inside an Update's function")
	// ErrFutureRevision is returned by WatchFrom for a revision above the
	// store's latest change: no store has made that change yet.
	ErrFutureRevision = errors.New("lastmodstore: revision from the future")
)

// ErrCorruptSnapshot is matched by the error Load and LoadFile return for
// input that is not a snapshot this store can load: truncated, damaged
// (a checksum, length or record that does not add up), foreign (not a
// snapshot, or one of other key or value types or another codec), of a
// newer format version, holding a key twice, or followed by more bytes
// (LoadFile). The store is then left exactly as it was.
var ErrCorruptSnapshot = snapshot.ErrCorrupt

// ErrStopTimeout is matched by the error Shutdown returns when an eviction
// callback was still running when the stop timeout (WithStopTimeout)
// passed.
var ErrStopTimeout = supervisor.ErrStopTimeout

// ErrTooManyRestarts is matched (errors.Is) by the error Shutdown and Err
// return when the store stopped because its actors failed more often than
// the restart limit allows. The same error also wraps the last failure; a
// panic is a *PanicError.
var ErrTooManyRestarts = supervisor.ErrTooManyRestarts

// PanicError is a recovered actor panic: the actor's name, the value it
// panicked with and its stack.
type PanicError = supervisor.PanicError

// ConflictError is the error of a conditional write that found the item
// changed. It matches ErrConflict (errors.Is) and carries what the caller
// needs to retry: the current revision and modification time, both zero
// when the key is absent.
type ConflictError struct {
	Revision     uint64
	LastModified time.Time
}

// Error describes the conflict.
func (e *ConflictError) Error() string {
	if e.Revision == 0 {
		return "lastmodstore: conflict: key is absent"
	}
	return fmt.Sprintf("lastmodstore: conflict: current revision %d", e.Revision)
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// CompactedError is the error of a WatchFrom whose revision is older than
// the history the store keeps (WithHistory). It matches ErrCompacted
// (errors.Is) and carries the oldest revision WatchFrom accepts now: the
// history holds every change after it.
type CompactedError struct {
	Oldest uint64
}

// Error describes the compaction.
func (e *CompactedError) Error() string {
	return fmt.Sprintf("lastmodstore: revision compacted: the history holds the changes after revision %d", e.Oldest)
}

// Unwrap returns ErrCompacted.
func (e *CompactedError) Unwrap() error { return ErrCompacted }
