package lastmodhttp

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// endGrace is how long a change stream may still write once its request's
// context has ended: enough for a client that reads to take the write
// under way and the end of the response, and see the stream end cleanly;
// short enough that a client that does not read cannot hold a server's
// Shutdown up. A shorter stream write timeout bounds it too.
const endGrace = time.Second

// writeGuard bounds the writes of one change stream. A stream lives longer
// than any server-wide WriteTimeout could allow, so each of its writes gets
// a deadline of its own, cleared again once the write is through (an
// expired deadline ends an idle HTTP/2 stream). When the request's context
// ends, no new write begins, and the one under way, with what the server
// writes after the handler, must be done within endGrace: that unblocks a
// write stuck on a client that does not read, which cancelling a context
// alone does not.
//
// The mutex orders begin against end: a write begun after end is refused,
// and end bounds one begun before it.
type writeGuard struct {
	rc      *http.ResponseController
	timeout time.Duration

	mu      sync.Mutex
	writing bool // between begin and finish
	ended   bool // the context ended: nothing more is written
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
			// end of a chunked body); once the context ended, end did.
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
	g.writing = true
	return true
}

// finish ends the write begin began. After one that went through it
// clears the deadline, so an idle stream is not ended by it; after one
// that failed, the stream ends and the deadline stays.
func (g *writeGuard) finish(ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writing = false
	if ok && !g.ended {
		_ = g.rc.SetWriteDeadline(time.Time{})
	}
}

// end refuses every later write, and gives the one under way, and the
// rest of the response, endGrace to finish.
func (g *writeGuard) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ended = true
	_ = g.rc.SetWriteDeadline(time.Now().Add(min(endGrace, g.timeout)))
}
