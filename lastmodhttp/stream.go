package lastmodhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
// goes away (the request's context ends) or the store ends the watch. It
// returns only after the watch channel is closed, so nothing it started
// outlives the request.
func (h *handler[V]) stream(w http.ResponseWriter, r *http.Request) {
	watcher, ok := h.b.(Watcher[V])
	if !ok {
		httpError(w, http.StatusNotImplemented, "this store has no change stream")
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	// Resuming needs WatchFrom; until the store has it, a client that
	// asks to resume is told it may have missed changes.
	var (
		events <-chan store.Event[string, V]
		err    error
		reset  string
	)
	lastID := r.Header.Get("Last-Event-ID")
	resumer, canResume := h.b.(Resumer[V])
	from, idErr := strconv.ParseUint(strings.TrimSpace(lastID), 10, 64)
	switch {
	case lastID == "":
		events, err = watcher.Watch(ctx)
	case canResume && idErr == nil:
		events, err = resumer.WatchFrom(ctx, from)
	default:
		reset = "resume not supported: changes since Last-Event-ID may be missing; list the store again"
		if canResume {
			reset = "malformed Last-Event-ID; list the store again"
		}
		events, err = watcher.Watch(ctx)
	}
	if err != nil {
		storeError(w, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if reset != "" {
		err = writeEvent(w, "", "reset", map[string]string{"reason": reset})
	}
	if err == nil {
		err = rc.Flush()
	}
	for ev := range events {
		if err != nil {
			// The client is gone or cannot take more: end the watch and
			// drain it until the store closes the channel.
			cancel()
			continue
		}
		if ev.Kind == store.EventEnd {
			if ctx.Err() == nil {
				// The store ended the watch (it stopped, or this client
				// fell behind): say why, the stream ends next.
				_ = writeEvent(w, "", "end", map[string]string{"reason": endReason(ev.Err)})
				_ = rc.Flush()
			}
			continue
		}
		err = h.writeChange(w, ev)
		if err == nil {
			err = rc.Flush()
		}
	}
}

// endReason names why the store ended a watch.
func endReason(err error) string {
	switch {
	case errors.Is(err, store.ErrNotRunning):
		return "store stopped"
	case errors.Is(err, store.ErrWatchLagging):
		return "client fell behind; reconnect and list the store again"
	case err != nil:
		return err.Error()
	}
	return "ended"
}

// writeChange writes one change event: id is the item's revision (the new
// item's for a put, the removed one's otherwise; none for a clear).
func (h *handler[V]) writeChange(w http.ResponseWriter, ev store.Event[string, V]) error {
	name, ok := eventNames[ev.Kind]
	if !ok {
		return nil
	}
	data := listedItem{Key: ev.Key}
	id := ""
	if ev.Item != nil {
		li, err := h.listed(ev.Item)
		if err != nil {
			return err
		}
		li.Key = ev.Key
		data = li
		id = strconv.FormatUint(ev.Item.Revision, 10)
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
