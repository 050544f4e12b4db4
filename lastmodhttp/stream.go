package lastmodhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lastmodstore/lastmodstore/store"
)

// eventNames are the SSE event names of the store's event kinds.
var eventNames = map[store.EventKind]string{
	store.EventPut:    "put",
	store.EventDelete: "delete",
	store.EventExpire: "expire",
	store.EventEvict:  "evict",
	store.EventClear:  "clear",
}

// stream serves the change stream as Server-Sent Events until the client
// goes away (the request's context ends), the store ends the watch, or a
// write takes longer than the stream write timeout (a client that stopped
// reading). When the request's context ends, a write under way gets
// endGrace more, so a client that never reads cannot hold the stream, nor
// a server's Shutdown, up. It returns only after the watch channel is
// closed, so nothing it started outlives the request.
func (h *handler[V]) stream(w http.ResponseWriter, r *http.Request) {
	watcher, ok := h.b.(Watcher[V])
	if !ok {
		httpError(w, http.StatusNotImplemented, "this store has no change stream (Watch)")
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	// A client that cannot be resumed where it asks is told so (event:
	// reset) and gets the live stream: it must list the store again.
	// The reset's kind is also a header, so a client that cannot take a
	// reset (the Go client's WatchFrom) learns it before any event.
	var (
		events    <-chan store.Event[string, V]
		err       error
		reset     map[string]any
		resetKind string
	)
	lastID := strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	resumer, canResume := h.b.(Resumer[V])
	from, idErr := strconv.ParseUint(lastID, 10, 64)
	var compacted *store.CompactedError
	switch {
	case lastID == "":
	case !canResume:
		reset, resetKind = resetData("resume not supported: changes since Last-Event-ID may be missing"), resetUnsupported
	case idErr != nil:
		reset, resetKind = resetData("malformed Last-Event-ID"), resetMalformed
	default:
		events, err = resumer.WatchFrom(ctx, from)
		switch {
		case errors.As(err, &compacted):
			reset, resetKind = resetData("history compacted: the changes after Last-Event-ID are no longer all kept"), resetCompacted
			reset["oldest"] = compacted.Oldest
			err = nil
		case errors.Is(err, store.ErrFutureRevision):
			reset, resetKind = resetData("Last-Event-ID is ahead of the store: it comes from another store, or one that was replaced"), resetFuture
			err = nil
		}
	}
	if events == nil && err == nil {
		events, err = watcher.Watch(ctx)
	}
	if err != nil {
		storeError(w, err)
		return
	}
	rc := http.NewResponseController(w)
	// Each write's own deadline replaces a server's WriteTimeout, which
	// would otherwise end every stream that outlives it.
	guard, release := guardWrites(ctx, w, h.opts.streamWriteTimeout)
	defer release()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	if resetKind != "" {
		w.Header().Set(headerReset, resetKind)
		if resetKind == resetCompacted {
			w.Header().Set(headerOldest, strconv.FormatUint(compacted.Oldest, 10))
		}
	}
	if r.ProtoMajor == 1 {
		// The connection's write deadline outlives the handler; a client
		// reconnects on a new connection, which starts without it.
		w.Header().Set("Connection", "close")
	}
	// write writes one event and flushes it within the stream's write
	// timeout, and fails at once when the request's context has ended.
	write := func(event func() error) error {
		if !guard.begin() {
			return context.Cause(ctx)
		}
		err := event()
		if err == nil {
			err = rc.Flush()
		}
		guard.finish(err == nil)
		return err
	}
	err = write(func() error {
		w.WriteHeader(http.StatusOK)
		if reset != nil {
			return writeEvent(w, "", "reset", reset)
		}
		return nil
	})
	for ev := range events {
		if err != nil {
			// The client is gone, cannot take more, or the request ended:
			// end the watch and drain it until the store closes the
			// channel.
			cancel()
			continue
		}
		if ev.Kind == store.EventEnd {
			if ctx.Err() == nil {
				// The store ended the watch (it stopped, or this client
				// fell behind): say why, the stream ends next.
				_ = write(func() error {
					return writeEvent(w, "", "end", map[string]string{"reason": endReason(ev.Err)})
				})
			}
			continue
		}
		err = write(func() error { return h.writeChange(w, ev) })
	}
}

// resetData is the data of a reset event.
func resetData(reason string) map[string]any {
	return map[string]any{"reason": reason + "; list the store again"}
}

// endReason names why the store ended a watch.
func endReason(err error) string {
	switch {
	case errors.Is(err, store.ErrNotRunning):
		return endStopped
	case errors.Is(err, store.ErrWatchLagging):
		return endLagging
	case errors.Is(err, store.ErrCompacted):
		return endCompacted
	case err != nil:
		return err.Error()
	}
	return endEnded
}

// writeChange writes one change event. Its id is the change's own
// revision (Event.Revision): the Last-Event-ID to resume after it. The
// data's revision is the item's: the new item's for a put, the removed
// one's otherwise. A change of a key that is not valid UTF-8 is left
// out, as the listing leaves the key out: JSON cannot name it.
func (h *handler[V]) writeChange(w http.ResponseWriter, ev store.Event[string, V]) error {
	name, ok := eventNames[ev.Kind]
	if !ok || !utf8.ValidString(ev.Key) {
		return nil
	}
	data := listedItem{Key: ev.Key}
	if ev.Item != nil {
		li, err := h.listed(ev.Item)
		if err != nil {
			return err
		}
		li.Key = ev.Key
		data = li
	}
	id := ""
	if ev.Revision != 0 {
		id = strconv.FormatUint(ev.Revision, 10)
	}
	return writeEvent(w, id, name, data)
}

// writeEvent writes one SSE event whose data is v as one line of JSON
// (JSON escapes newlines, so it cannot break the framing).
func writeEvent(w http.ResponseWriter, id, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var b strings.Builder
	if id != "" {
		fmt.Fprintf(&b, "id: %s\n", id)
	}
	fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", name, data)
	_, err = w.Write([]byte(b.String()))
	return err
}
