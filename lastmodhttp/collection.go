package lastmodhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/lastmodstore/lastmodstore/store"
)

// ManyGetter is a Backend that reads several keys at one instant, as
// store.Store's GetMany does; POST / with {"get": […]} needs it, and
// answers 501 Not Implemented without it: reading the keys one by one
// would not be all at once.
type ManyGetter[V any] interface {
	GetMany(keys []string) (map[string]*store.Item[V], error)
}

// ManySetter is a Backend that writes several items all or nothing, as
// store.Store's SetMany does; POST / with {"set": {…}} needs it, and
// answers 501 Not Implemented without it.
type ManySetter[V any] interface {
	SetMany(items map[string]V) error
}

// Clearer is a Backend that removes every item at once, as store.Store's
// Clear does; DELETE / needs it, and answers 501 Not Implemented
// without it.
type Clearer interface {
	Clear() error
}

// Sizer is a Backend that counts its items itself, as store.Store does;
// for a Backend without it, GET /?size counts its List.
type Sizer interface {
	Size() (int, error)
}

// StatsReporter is a Backend with counters, as store.Store has; GET
// /?stats needs it, and answers 501 Not Implemented without it.
type StatsReporter interface {
	Stats() (store.Stats, error)
}

// batchRequest is the body of POST /: exactly one of Get (the keys to
// read) and Set (the items to write, each value as the listing shows
// it).
type batchRequest struct {
	Get *[]string                   `json:"get"`
	Set *map[string]json.RawMessage `json:"set"`
}

// batch serves POST /: a GetMany answered as the listing is, or a
// SetMany answered 204, each one step of the Backend's, all or nothing.
func (h *handler[V]) batch(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	var req batchRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		httpError(w, http.StatusBadRequest, "cannot decode the batch: "+err.Error())
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		httpError(w, http.StatusBadRequest, "cannot decode the batch: more after its object")
		return
	}
	if (req.Get == nil) == (req.Set == nil) {
		httpError(w, http.StatusBadRequest, `a batch is {"get": [keys…]} or {"set": {key: value, …}}`)
		return
	}
	if req.Get != nil {
		h.getMany(w, *req.Get)
		return
	}
	h.setMany(w, *req.Set)
}

// getMany answers the live items of keys, leaving absent keys out.
func (h *handler[V]) getMany(w http.ResponseWriter, keys []string) {
	b, ok := h.b.(ManyGetter[V])
	if !ok {
		httpError(w, http.StatusNotImplemented, "this store cannot read several keys at once (GetMany)")
		return
	}
	for _, k := range keys {
		if msg := h.keyProblem(k); msg != "" {
			httpErrorCode(w, http.StatusBadRequest, codeInvalidKey, msg+": "+quoteKey(k))
			return
		}
	}
	items, err := b.GetMany(keys)
	if err != nil {
		storeError(w, err)
		return
	}
	h.writeItems(w, items, false)
}

// setMany writes items with SetMany, after decoding every value: a value
// that does not decode writes nothing.
func (h *handler[V]) setMany(w http.ResponseWriter, raw map[string]json.RawMessage) {
	b, ok := h.b.(ManySetter[V])
	if !ok {
		httpError(w, http.StatusNotImplemented, "this store cannot write several items at once (SetMany)")
		return
	}
	items := make(map[string]V, len(raw))
	for k, data := range raw {
		if msg := h.keyProblem(k); msg != "" {
			httpErrorCode(w, http.StatusBadRequest, codeInvalidKey, msg+": "+quoteKey(k))
			return
		}
		var v V
		if err := h.unlisted(data, &v); err != nil {
			httpError(w, http.StatusBadRequest, "cannot decode the value of "+quoteKey(k)+": "+err.Error())
			return
		}
		items[k] = v
	}
	if err := b.SetMany(items); err != nil {
		storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// unlisted decodes a value as listed shows it: a JSON codec's value as it
// is, any other codec's as a base64 string of its bytes.
func (h *handler[V]) unlisted(data json.RawMessage, v *V) error {
	return decodeListed(h.opts.codec, data, v)
}

// decodeListed decodes a value of the listing (or of a batch) with c.
func decodeListed[V any](c Codec, data json.RawMessage, v *V) error {
	if isJSON(c.ContentType) {
		return c.Unmarshal(data, v)
	}
	var raw []byte
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	return c.Unmarshal(raw, v)
}

// clear serves DELETE /: Clear, confirmed by If-Match: *. The collection
// has no entity-tag — the stores keep no revision of their own that a
// Clear could be conditional on — so "*", which any current
// representation matches, is the one precondition that can hold; it
// makes clearing deliberate. Without it the answer is 428, with
// another precondition 412.
func (h *handler[V]) clear(w http.ResponseWriter, r *http.Request) {
	b, ok := h.b.(Clearer)
	if !ok {
		httpError(w, http.StatusNotImplemented, "this store cannot clear (Clear)")
		return
	}
	cond, err := parseConditions(r.Header)
	switch {
	case errors.Is(err, errMalformed):
		httpError(w, http.StatusPreconditionFailed, "malformed If-Match")
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, err.Error())
		return
	case !cond.guardsWrite():
		httpError(w, http.StatusPreconditionRequired, "DELETE / clears the store: send If-Match: * to confirm")
		return
	case cond.ifMatch == nil || !cond.ifMatch.any || cond.ifNoneMatch != nil || cond.hasUnmodified:
		httpError(w, http.StatusPreconditionFailed, "the store as a whole has no entity-tag or date: only If-Match: * can hold")
		return
	}
	if err := b.Clear(); err != nil {
		storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// size serves GET /?size: {"size": n}.
func (h *handler[V]) size(w http.ResponseWriter, r *http.Request) {
	var (
		n   int
		err error
	)
	if s, ok := h.b.(Sizer); ok {
		n, err = s.Size()
	} else {
		var items map[string]*store.Item[V]
		items, err = h.b.List()
		n = len(items)
	}
	if err != nil {
		storeError(w, err)
		return
	}
	writeJSON(w, r, map[string]int{"size": n})
}

// wireStats is store.Stats as GET /?stats shows it.
type wireStats struct {
	Hits           uint64 `json:"hits"`
	Misses         uint64 `json:"misses"`
	Writes         uint64 `json:"writes"`
	Deletes        uint64 `json:"deletes"`
	Expirations    uint64 `json:"expirations"`
	Evictions      uint64 `json:"evictions"`
	Restarts       uint64 `json:"restarts"`
	Items          int    `json:"items"`
	Watchers       int    `json:"watchers"`
	Mailbox        int    `json:"mailbox"`
	Pending        int    `json:"pending"`
	Dropped        uint64 `json:"dropped"`
	Loads          uint64 `json:"loads"`
	LoadErrors     uint64 `json:"loadErrors"`
	Waiting        int    `json:"waiting"`
	Revision       uint64 `json:"revision"`
	OldestRevision uint64 `json:"oldestRevision"`
}

// stats serves GET /?stats: the Backend's counters.
func (h *handler[V]) stats(w http.ResponseWriter, r *http.Request) {
	b, ok := h.b.(StatsReporter)
	if !ok {
		httpError(w, http.StatusNotImplemented, "this store has no counters (Stats)")
		return
	}
	st, err := b.Stats()
	if err != nil {
		storeError(w, err)
		return
	}
	writeJSON(w, r, wireStats(st))
}

// writeJSON answers v as JSON; HEAD gets the headers alone.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "cannot encode the answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// quoteKey quotes a key for an error message, cut short if it is long.
func quoteKey(k string) string {
	const most = 64
	if len(k) > most {
		return strconv.Quote(k[:most]) + "…"
	}
	return strconv.Quote(k)
}

// readBody reads a request's body within the handler's limit; ok false
// means it has answered the request (413 or 400).
func (h *handler[V]) readBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpError(w, http.StatusRequestEntityTooLarge, "body larger than "+strconv.FormatInt(h.opts.maxBodyBytes, 10)+" bytes")
			return nil, false
		}
		httpError(w, http.StatusBadRequest, "cannot read the body: "+err.Error())
		return nil, false
	}
	return body, true
}
