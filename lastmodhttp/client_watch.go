package lastmodhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

const (
	// watchBuffer is how many events a watch's channel holds for a
	// receiver that is busy. One that falls further behind holds up only
	// its own stream: the server ends it after its write timeout, and
	// the watch reconnects and resumes.
	watchBuffer = 256
	// reconnectFirst and reconnectMost bound the pause between two
	// attempts to reconnect a watch: doubling from the first to the most.
	reconnectFirst = 50 * time.Millisecond
	reconnectMost  = 2 * time.Second
)

// Watch returns a channel of the store's changes from now on, as
// store.Store.Watch does: GET / with Accept: text/event-stream. Watch
// returns once the server has begun the stream, so every change made
// after it returns is on the channel, in the store's order, each with
// its Revision.
//
// When the connection drops, or the server ends the stream because this
// watch fell behind, the watch reconnects on its own with Last-Event-ID
// and goes on right after the last event it delivered: nothing lost,
// nothing twice. It asks for the changes after the revision before that
// event's and skips those it delivered, so that a write of several keys
// whose events share one revision (a SetMany over etcd) is resumed whole
// even when the connection dropped between them. It tries for as long as the Client's
// timeout (WithTimeout), pausing longer after each failure, and the
// pauses start over only once an event has come through. A watch that
// has delivered no event yet has no revision to resume after: a drop then
// ends it with ErrWatchLost (WatchFrom does not have that gap).
//
// The watch ends with an EventEnd, and then a closed channel, saying why:
// ctx's error when ctx is done, store.ErrNotRunning when the server's
// store stopped, a *store.CompactedError (matching store.ErrCompacted)
// when the store's history no longer holds the changes to resume after,
// store.ErrFutureRevision when the server's store is not the one the
// watch began on, ErrClosed at Close, or the last error of reconnecting.
// The EventEnd is left out when ctx ended or the Client closed while the
// channel was full. Nothing of the watch is left running once its
// channel is closed.
//
// Watch returns store.ErrNilContext for a nil ctx, ctx.Err() for a ctx
// already done, store.ErrNotRunning when the server's store is not
// running, and an error matching errors.ErrUnsupported when it has no
// change stream.
func (c *Client[V]) Watch(ctx context.Context) (<-chan store.Event[string, V], error) {
	return c.watch(ctx, 0, false)
}

// WatchFrom is Watch resumed from a revision, as store.Store.WatchFrom
// is: the channel first has every change with a Revision above revision,
// then the changes from now on. It returns a *store.CompactedError
// (matching store.ErrCompacted, with the oldest revision it would accept)
// when the server's store no longer keeps the changes after revision,
// store.ErrFutureRevision for a revision above the store's latest
// change, an error matching errors.ErrUnsupported when the server's
// store cannot resume, and otherwise the errors Watch returns.
func (c *Client[V]) WatchFrom(ctx context.Context, revision uint64) (<-chan store.Event[string, V], error) {
	return c.watch(ctx, revision, true)
}

// watcher is one watch's goroutine and what it knows.
type watcher[V any] struct {
	c   *Client[V]
	ctx context.Context
	ch  chan store.Event[string, V]
	// last is the revision of the last event delivered, or the one the
	// watch was resumed from; haveLast is false until there is one.
	// atLast holds the keys of the events delivered at last, nil when
	// none was: one write of several keys (etcdstore's SetMany, one
	// transaction) gives each of its events the same revision.
	last     uint64
	haveLast bool
	atLast   map[string]bool
	// progressed says an event came through since the last reconnect.
	progressed bool
}

func (c *Client[V]) watch(ctx context.Context, from uint64, resume bool) (<-chan store.Event[string, V], error) {
	if err := c.enter(); err != nil {
		return nil, err
	}
	if ctx == nil {
		c.leave()
		return nil, store.ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		c.leave()
		return nil, err
	}
	st, err := c.openStream(ctx, from, resume)
	if err != nil {
		c.leave()
		return nil, err
	}
	w := &watcher[V]{c: c, ctx: ctx, ch: make(chan store.Event[string, V], watchBuffer), last: from, haveLast: resume}
	go w.run(st)
	return w.ch, nil
}

// stream is one open change stream.
type stream struct {
	events *sseReader
	// close ends the request and releases what it holds.
	close func()
}

// openStream opens a change stream that resumes after last when
// haveLast. The Client's timeout bounds the wait for its headers, not the
// stream. A stream the server could not resume as asked is closed, and
// its error returned.
func (c *Client[V]) openStream(ctx context.Context, last uint64, haveLast bool) (*stream, error) {
	reqCtx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(c.ctx, cancel)
	timer := time.AfterFunc(c.timeout, cancel)
	release := func() {
		timer.Stop()
		stopOnClose()
		cancel()
	}
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, c.base, nil)
	if err != nil {
		release()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if haveLast {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(last, 10))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		release()
		return nil, c.streamError(ctx, err)
	}
	closeAll := func() {
		_ = resp.Body.Close()
		release()
	}
	if !timer.Stop() {
		closeAll()
		return nil, fmt.Errorf("lastmodhttp: change stream: no answer within %v: %w", c.timeout, context.DeadlineExceeded)
	}
	if resp.StatusCode != http.StatusOK {
		b, err := c.readAll(resp.Body)
		closeAll()
		if err != nil {
			return nil, c.streamError(ctx, err)
		}
		return nil, errorOf(answer{status: resp.StatusCode, header: resp.Header, body: b})
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		closeAll()
		return nil, fmt.Errorf("%w: a change stream of type %q", ErrBadResponse, resp.Header.Get("Content-Type"))
	}
	if err := resetError(resp.Header); err != nil {
		closeAll()
		return nil, err
	}
	return &stream{events: newSSEReader(resp.Body, c.maxResponseBytes), close: closeAll}, nil
}

// resetError is the error of a stream that could not resume as asked
// (Lastmod-Reset), nil for one that did.
func resetError(h http.Header) error {
	switch kind := h.Get(headerReset); kind {
	case "":
		return nil
	case resetCompacted:
		oldest, err := strconv.ParseUint(h.Get(headerOldest), 10, 64)
		if err != nil {
			return fmt.Errorf("%w: a compacted history without its oldest revision", ErrBadResponse)
		}
		return &store.CompactedError{Oldest: oldest}
	case resetFuture:
		return store.ErrFutureRevision
	case resetUnsupported:
		return fmt.Errorf("%w: the server's store cannot resume a change stream (WatchFrom)", errors.ErrUnsupported)
	default:
		return fmt.Errorf("%w: the server could not resume the change stream (%s)", ErrBadResponse, kind)
	}
}

// streamError is err, or what it stands for: ErrClosed when Close ended
// the stream, ctx's error when the watch's ctx did.
func (c *Client[V]) streamError(ctx context.Context, err error) error {
	switch {
	case c.ctx.Err() != nil:
		return ErrClosed
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// dropped is why a stream ended that the watch reconnects after.
type dropped struct{ err error }

func (d *dropped) Error() string { return "change stream dropped: " + d.err.Error() }
func (d *dropped) Unwrap() error { return d.err }

// run follows st, and the streams that resume it, until the watch ends;
// then it sends the EventEnd, closes the channel and lets Close go on.
func (w *watcher[V]) run(st *stream) {
	defer w.c.leave()
	defer close(w.ch)
	var (
		delay    time.Duration
		deadline time.Time
	)
	for {
		err := w.follow(st)
		st.close()
		var d *dropped
		if !errors.As(err, &d) {
			w.end(err)
			return
		}
		if !w.haveLast {
			w.end(fmt.Errorf("%w: %w", ErrWatchLost, d.err))
			return
		}
		// A stream that came back and went again without an event
		// counts as a failed attempt: the pauses and the deadline go on.
		if w.progressed || deadline.IsZero() {
			delay, deadline = 0, time.Now().Add(w.c.timeout)
		}
		w.progressed = false
		if st, err = w.reconnect(&delay, deadline); err != nil {
			w.end(err)
			return
		}
	}
}

// follow delivers st's changes until it ends, and returns why: a
// *dropped to reconnect after, or the watch's end.
func (w *watcher[V]) follow(st *stream) error {
	for {
		ev, err := st.events.next()
		if err != nil {
			switch {
			case w.ctx.Err() != nil:
				return w.ctx.Err()
			case w.c.ctx.Err() != nil:
				return ErrClosed
			case errors.Is(err, ErrBadResponse):
				return err
			}
			return &dropped{err}
		}
		change, isChange, err := decodeChange[V](w.c.codec, ev)
		if err != nil {
			return err
		}
		if !isChange {
			switch ev.name {
			case "end":
				return endError(ev.data)
			case "reset":
				return resetEventError(ev.data)
			}
			continue // a name this Client does not know
		}
		if w.delivered(change) {
			continue // replayed, and delivered before
		}
		select {
		case w.ch <- change:
			if !w.haveLast || change.Revision > w.last {
				w.last, w.haveLast, w.atLast = change.Revision, true, map[string]bool{}
			}
			w.atLast[change.Key] = true
			w.progressed = true
		case <-w.ctx.Done():
			return w.ctx.Err()
		case <-w.c.ctx.Done():
			return ErrClosed
		}
	}
}

// delivered reports whether change is one the watch has delivered, or is
// older than where it began.
func (w *watcher[V]) delivered(change store.Event[string, V]) bool {
	switch {
	case !w.haveLast || change.Revision > w.last:
		return false
	case change.Revision < w.last:
		return true
	}
	return w.atLast == nil || w.atLast[change.Key]
}

// resumeAfter is the Last-Event-ID a reconnect sends: the revision
// before the last event's, so that the events of the same revision not
// delivered yet come again too (delivered skips those that were), or the
// revision the watch began after when it has delivered none.
func (w *watcher[V]) resumeAfter() uint64 {
	if w.atLast != nil && w.last > 0 {
		return w.last - 1
	}
	return w.last
}

// reconnect opens a stream resuming after the last event, trying until
// deadline; *delay is the pause before the next attempt, doubled after
// each failure.
func (w *watcher[V]) reconnect(delay *time.Duration, deadline time.Time) (*stream, error) {
	for {
		if *delay > 0 {
			timer := time.NewTimer(*delay)
			select {
			case <-timer.C:
			case <-w.ctx.Done():
				timer.Stop()
				return nil, w.ctx.Err()
			case <-w.c.ctx.Done():
				timer.Stop()
				return nil, ErrClosed
			}
		}
		*delay = min(max(2**delay, reconnectFirst), reconnectMost)
		st, err := w.c.openStream(w.ctx, w.resumeAfter(), true)
		if err == nil {
			return st, nil
		}
		if !transient(err) || time.Now().After(deadline) {
			return nil, err
		}
	}
}

// transient reports whether reconnecting may cure err: a transport
// error, a timeout, a 5xx that is not the store's own answer (a proxy's).
func transient(err error) bool {
	var se *StatusError
	switch {
	case errors.Is(err, store.ErrNotRunning), errors.Is(err, context.Canceled),
		errors.Is(err, store.ErrCompacted), errors.Is(err, store.ErrFutureRevision),
		errors.Is(err, errors.ErrUnsupported), errors.Is(err, ErrBadResponse):
		return false
	case errors.As(err, &se):
		return se.StatusCode >= 500
	}
	return true
}

// end sends the watch's EventEnd. When the watch's ctx has ended, or the
// Client closed, no one may be receiving: then it is sent only if there
// is room.
func (w *watcher[V]) end(err error) {
	ev := store.Event[string, V]{Kind: store.EventEnd, Err: err}
	if w.ctx.Err() != nil || w.c.ctx.Err() != nil {
		select {
		case w.ch <- ev:
		default:
		}
		return
	}
	select {
	case w.ch <- ev:
	case <-w.ctx.Done():
	case <-w.c.ctx.Done():
	}
}

// endError is what an "event: end" stands for: the store stopped, which
// ends the watch with store.ErrNotRunning, or anything else — the watch
// fell behind, its replay was outrun, a backend's error — after which
// the watch resumes, and the server says whether it still can.
func endError(data string) error {
	var d endData
	_ = json.Unmarshal([]byte(data), &d)
	if d.Reason == endStopped {
		return store.ErrNotRunning
	}
	return &dropped{errors.New("the server ended the stream: " + d.Reason)}
}

// resetEventError is the error of an "event: reset" on a stream the
// Client opened without a Last-Event-ID, which should have none: changes
// may be missing, so the watch ends.
func resetEventError(data string) error {
	var d endData
	_ = json.Unmarshal([]byte(data), &d)
	if d.Oldest != nil {
		return &store.CompactedError{Oldest: *d.Oldest}
	}
	return errors.New("lastmodhttp: the server reset the change stream: " + d.Reason)
}
