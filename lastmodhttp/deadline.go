package lastmodhttp

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// writeGuard bounds the writes of one change stream. A stream lives longer
// than any server-wide WriteTimeout could allow, so each of its writes gets
// a deadline of its own, cleared again once the write is through (an
// expired deadline ends an idle HTTP/2 stream). When the request's context
// ends, the deadline moves to now, which unblocks a write stuck on a
// client that does not read: cancelling a context alone does not.
//
// The mutex orders begin against end: a write begun after end fails at
// once, and end cuts one begun before it.
type writeGuard struct {
	rc      *http.ResponseController
	timeout time.Duration

	mu    sync.Mutex
	ended bool // the context ended: the deadline is past, for good
}

// guardWrites returns a writeGuard of w whose end runs when ctx ends, and
// a release that the handler calls before it returns: once release is
// done, the guard touches w no more.
func guardWrites(ctx context.Context, w http.ResponseWriter, timeout time.Duration) (g *writeGuard, release func()) {
	g = &writeGuard{rc: http.NewResponseController(w), timeout: timeout}
	ended := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(ended)
		g.end()
	})
	return g, func() {
		if !stop() {
			<-ended // end is running or has run: let it finish first
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.ended {
			// Bound what the server still writes after the handler (the
			// end of a chunked body). The connection is not reused (the
			// stream says Connection: close), so no later response
			// inherits this deadline.
			_ = g.rc.SetWriteDeadline(time.Now().Add(g.timeout))
		}
	}
}

// begin sets the deadline of the next write, and reports false when the
// context has ended and nothing should be written.
func (g *writeGuard) begin() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return false
	}
	// A ResponseWriter that cannot set deadlines (a wrapper without
	// Unwrap) leaves the write unbounded; the stream still works.
	_ = g.rc.SetWriteDeadline(time.Now().Add(g.timeout))
	return true
}

// done clears the deadline after a write that went through, so an idle
// stream is not ended by it.
func (g *writeGuard) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.ended {
		_ = g.rc.SetWriteDeadline(time.Time{})
	}
}

// end makes the current write, and every later one, fail at once.
func (g *writeGuard) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ended = true
	_ = g.rc.SetWriteDeadline(time.Now())
}
