// Package supervisor runs a group of actors (goroutines), restarts an actor
// that panics or fails, and stops the group in reverse start order.
//
// A Supervisor knows nothing about what its actors do. An actor's state lives
// in its Run closure (or the object Run is a method of), so a restart is just
// another call to Run with a fresh context: whatever the actor kept survives.
//
// Restarts are bounded: more than Options.MaxRestarts restarts within
// Options.Period make the supervisor give up, stop the other actors and return
// an error wrapping ErrTooManyRestarts and the failure that tipped it over.
//
// Each actor gets its own context, derived from the context given to Run with
// context.WithoutCancel: values flow through, but the parent's cancellation
// does not reach the actors directly. The supervisor cancels them one at a
// time, last started first, so an actor can rely on the actors started before
// it outliving it.
//
// Nothing here holds a lock: Run's bookkeeping belongs to Run's goroutine,
// actors report their exits over a channel, and the counters that other
// goroutines may read are atomics.
package supervisor
