package lastmodhttp

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lastmodstore/lastmodstore/store"
)

// listedItem is one item of the listing and of a change event.
type listedItem struct {
	Key          string    `json:"key,omitempty"`
	Value        any       `json:"value,omitempty"`
	Revision     uint64    `json:"revision,omitempty"`
	LastModified time.Time `json:"lastModified,omitzero"`
	ExpiresAt    time.Time `json:"expiresAt,omitzero"`
}

// root serves GET and HEAD of the root: the change stream when the client
// accepts text/event-stream, the listing otherwise.
func (h *handler[V]) root(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && acceptsEventStream(r.Header.Values("Accept")) {
		h.stream(w, r)
		return
	}
	q := r.URL.Query()
	asked := 0
	for _, p := range []string{"size", "stats", "modified-since"} {
		if q.Has(p) {
			asked++
		}
	}
	switch {
	case asked > 1:
		httpError(w, http.StatusBadRequest, "ask for one of ?size, ?stats and ?modified-since")
		return
	case q.Has("size"):
		h.size(w, r)
		return
	case q.Has("stats"):
		h.stats(w, r)
		return
	}
	var (
		items map[string]*store.Item[V]
		err   error
	)
	if v := q.Get("modified-since"); v != "" {
		since, ok := parseSince(v)
		if !ok {
			httpError(w, http.StatusBadRequest, "modified-since is neither RFC 3339 nor an HTTP-date")
			return
		}
		items, err = h.modifiedSince(since)
	} else {
		items, err = h.b.List()
	}
	if err != nil {
		storeError(w, err)
		return
	}
	h.writeItems(w, items, r.Method == http.MethodHead)
}

// writeItems answers items as the listing does: a JSON object of key →
// listedItem, leaving out keys JSON cannot name.
func (h *handler[V]) writeItems(w http.ResponseWriter, items map[string]*store.Item[V], head bool) {
	out := make(map[string]listedItem, len(items))
	for k, item := range items {
		if !utf8.ValidString(k) {
			continue // JSON cannot name it; see the package doc
		}
		li, err := h.listed(item)
		if err != nil {
			httpError(w, http.StatusInternalServerError, "cannot encode the value of "+strconv.Quote(k)+": "+err.Error())
			return
		}
		out[k] = li
	}
	body, err := json.Marshal(out)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "cannot encode the listing: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if !head {
		_, _ = w.Write(body)
	}
}

// modifiedSince asks the Backend for the items modified after t, or
// filters its List when it cannot say.
func (h *handler[V]) modifiedSince(t time.Time) (map[string]*store.Item[V], error) {
	if s, ok := h.b.(SinceLister[V]); ok {
		return s.ModifiedSince(t)
	}
	items, err := h.b.List()
	if err != nil {
		return nil, err
	}
	for k, item := range items {
		if !item.LastModified.After(t) {
			delete(items, k)
		}
	}
	return items, nil
}

// listed is item as the listing and the change events show it. A value of
// a JSON codec is embedded as it is; any other codec's bytes become a
// base64 string.
func (h *handler[V]) listed(item *store.Item[V]) (listedItem, error) {
	raw, err := h.opts.codec.Marshal(item.Value)
	if err != nil {
		return listedItem{}, err
	}
	li := listedItem{Revision: item.Revision, LastModified: item.LastModified.UTC()}
	if !item.ExpiresAt.IsZero() {
		li.ExpiresAt = item.ExpiresAt.UTC()
	}
	if isJSON(h.opts.codec.ContentType) && json.Valid(raw) {
		li.Value = json.RawMessage(raw)
	} else {
		li.Value = raw
	}
	return li, nil
}

// isJSON reports whether a media type is JSON (application/json or a
// +json suffix).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// acceptsEventStream reports whether an Accept header names
// text/event-stream (with a q above zero).
func acceptsEventStream(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "text/event-stream" {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}
