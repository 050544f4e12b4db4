package store

import (
	"errors"

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
	// ErrNilContext is returned by Start for a nil context.
	ErrNilContext = errors.New("lastmodstore: nil context")
	// ErrStoreFull is returned when a new key does not fit under MaxSize
	// with the RejectWhenFull policy. Updates of existing keys still work.
	ErrStoreFull = errors.New("lastmodstore: store full")
	// ErrConflict is returned when a conditional write finds the item
	// changed.
	ErrConflict = errors.New("lastmodstore: conflict")
	// ErrInvalidTTL is returned for a negative per-call time-to-live.
	ErrInvalidTTL = errors.New("lastmodstore: invalid ttl")
	// ErrInvalidKey is returned for a key the store cannot hash: an
	// interface key holding a slice, map or func, which would make a Go map
	// panic.
	ErrInvalidKey = errors.New("lastmodstore: invalid key")
	// ErrPanicked is returned by a call whose request was being handled
	// when the owner panicked. The supervisor restarts the owner with its
	// state; whether the interrupted request took effect is unknown.
	ErrPanicked = errors.New("lastmodstore: owner panicked during the request")
)

// ErrTooManyRestarts is matched (errors.Is) by the error Shutdown and Err
// return when the store stopped because its actors failed more often than
// the restart limit allows. The same error also wraps the last failure; a
// panic is a *PanicError.
var ErrTooManyRestarts = supervisor.ErrTooManyRestarts

// PanicError is a recovered actor panic: the actor's name, the value it
// panicked with and its stack.
type PanicError = supervisor.PanicError
