package supervisor

import (
	"errors"
	"fmt"
)

// ErrTooManyRestarts is wrapped by the error Run returns when it gives up
// because an actor failed more often than Options allow. That error also wraps
// the failure that tipped it over (a *PanicError or the actor's own error).
var ErrTooManyRestarts = errors.New("supervisor: too many restarts")

// ErrRunning is returned by Run, at once and without side effects, when
// another call to Run on the same Supervisor is still in progress.
var ErrRunning = errors.New("supervisor: already running")

// ErrStopTimeout is wrapped by the error Run returns when an actor did not
// return within Options.StopTimeout of being asked to stop.
var ErrStopTimeout = errors.New("supervisor: actor did not stop in time")

// errGoexit stands for an actor whose Run neither returned nor panicked but
// called runtime.Goexit (for example through testing.T.FailNow). It counts as
// a failure, so the actor is restarted like one that returned an error.
var errGoexit = errors.New("supervisor: actor called runtime.Goexit")

// PanicError is the failure recorded when an actor's Run panics: the panic is
// recovered in the actor's goroutine so it cannot take the process down.
type PanicError struct {
	Actor string // Name of the actor that panicked.
	Value any    // The value passed to panic.
	Stack []byte // The panicking goroutine's stack, from runtime/debug.Stack.
}

// Error returns "panic: " followed by the panic value. The actor's name is
// left to the wrapping error (see Run) so it is not repeated.
func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v", e.Value)
}

// Unwrap returns the panic value if it is an error, so errors.Is and errors.As
// see through a panic(err); otherwise it returns nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// giveUp builds Run's error when the restart limit is exceeded. Both the
// sentinel and the cause are wrapped so errors.Is/As find either.
func giveUp(actor string, cause error) error {
	return fmt.Errorf("%w: actor %q: %w", ErrTooManyRestarts, actor, cause)
}
