package lastmodhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lastmodstore/lastmodstore/store"
)

// Backend is what the handler needs of a store: reads, the conditional
// writes and deletes. *store.Store[string, V] and *mutexstore.Store[string,
// V] satisfy it. Watcher, Resumer and SinceLister are optional further
// methods the handler uses when the Backend has them.
//
// Even an unconditional PUT writes with CompareAndSet, at the revision it
// has just read: that is how it knows the ETag of the very item it wrote
// and whether it created the key (201) or replaced it (200), which Set
// does not say. Set, SetIfUnmodifiedSince and DeleteIfUnmodifiedSince are
// therefore not needed.
type Backend[V any] interface {
	Get(key string) (*store.Item[V], error)
	Delete(key string) error
	List() (map[string]*store.Item[V], error)
	CompareAndSet(key string, value V, revision uint64) (*store.Item[V], error)
	CompareAndDelete(key string, revision uint64) error
}

// SinceLister is a Backend that lists the items modified after a time
// itself, as store.Store does; for a Backend without it, GET
// /?modified-since= filters List.
type SinceLister[V any] interface {
	ModifiedSince(t time.Time) (map[string]*store.Item[V], error)
}

// Watcher is a Backend with a change stream, as store.Store has; GET /
// with Accept: text/event-stream answers 501 Not Implemented for a
// Backend without it.
type Watcher[V any] interface {
	Watch(ctx context.Context) (<-chan store.Event[string, V], error)
}

// TTLWriter is a Backend that writes an item with a time-to-live of its
// own under a condition: UpdateWithTTL, which store.Store,
// mutexstore.Store and etcdstore.Store have. A PUT with a Lastmod-TTL
// header needs it (there is no CompareAndSet with a TTL); a Backend
// without it answers such a PUT 501 Not Implemented.
type TTLWriter[V any] interface {
	UpdateWithTTL(key string, ttl time.Duration, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error)
}

// Resumer is a Backend whose change stream can start after a revision, so
// a client reconnecting with Last-Event-ID misses nothing; *store.Store
// has it. A Backend without it answers such a client with an "event:
// reset" first, and so does one whose WatchFrom returns an error matching
// store.ErrCompacted or store.ErrFutureRevision.
type Resumer[V any] interface {
	WatchFrom(ctx context.Context, revision uint64) (<-chan store.Event[string, V], error)
}

// handler serves one Backend; see New.
type handler[V any] struct {
	b    Backend[V]
	opts options
}

// New returns an http.Handler that serves b as the package documentation
// describes. Mount it with http.StripPrefix: what is left of the request's
// path after one leading slash is the key, and an empty rest is the root
// (the listing and the change stream). The handler is safe for concurrent
// use; it keeps no state of its own besides its options.
func New[V any](b Backend[V], opts ...Option) http.Handler {
	o := defaultOptions()
	for _, opt := range opts {
		opt.apply(&o)
	}
	return &handler[V]{b: b, opts: o}
}

// ServeHTTP dispatches on the path (root or key) and the method.
func (h *handler[V]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/")
	if key == "" {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.root(w, r)
		case http.MethodPost:
			h.batch(w, r)
		case http.MethodDelete:
			h.clear(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST, DELETE")
			httpError(w, http.StatusMethodNotAllowed, "method not allowed")
		}
		return
	}
	if msg := h.keyProblem(key); msg != "" {
		httpErrorCode(w, http.StatusBadRequest, codeInvalidKey, msg)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, DELETE")
		httpError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	cond, err := parseConditions(r.Header)
	switch {
	case errors.Is(err, errMalformed):
		// A malformed If-Match can match nothing; the current ETag still
		// tells the client what would.
		if item, err := h.b.Get(key); err == nil {
			setValidators(w, item)
		}
		httpError(w, http.StatusPreconditionFailed, "malformed If-Match")
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r, key, cond)
	case http.MethodPut:
		h.put(w, r, key, cond)
	case http.MethodDelete:
		h.delete(w, key, cond)
	}
}

// get serves GET and HEAD of one key.
func (h *handler[V]) get(w http.ResponseWriter, r *http.Request, key string, cond conditions) {
	item, err := h.b.Get(key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		storeError(w, err)
		return
	}
	rev, lm := revisionOf(item)
	switch cond.evaluate(rev, lm, true) {
	case notModified:
		setValidators(w, item)
		w.WriteHeader(http.StatusNotModified)
		return
	case failed:
		setValidators(w, item)
		httpError(w, http.StatusPreconditionFailed, "precondition failed")
		return
	}
	if item == nil {
		httpError(w, http.StatusNotFound, "not found")
		return
	}
	body, err := h.opts.codec.Marshal(item.Value)
	if err != nil {
		// The value was stored by this process, so failing to encode it
		// is the server's fault, not the client's.
		httpError(w, http.StatusInternalServerError, "cannot encode the value: "+err.Error())
		return
	}
	setValidators(w, item)
	w.Header().Set("Content-Type", h.opts.codec.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// maxAttempts bounds how often a write re-reads the item after losing a
// race for it. Every lost race is another client's write that landed, so
// the store as a whole always progresses; the bound only keeps one
// request from looping under a storm of writers to one key.
const maxAttempts = 100

// put serves PUT. Whatever its preconditions, it reads the current item,
// evaluates them against it, and writes with CompareAndSet at the
// revision it read, so the write lands only if nothing changed between;
// when something did, it starts over. Evaluating every header against one
// item is what makes combinations (If-Match with If-None-Match, say)
// atomic too; the price is a Get before each write.
func (h *handler[V]) put(w http.ResponseWriter, r *http.Request, key string, cond conditions) {
	if h.opts.requirePrecondition && !cond.guardsWrite() {
		httpError(w, http.StatusPreconditionRequired, "PUT needs If-Match, If-None-Match or If-Unmodified-Since")
		return
	}
	ttl, hasTTL, err := parseTTL(r.Header)
	if err != nil {
		httpErrorCode(w, http.StatusBadRequest, codeInvalidTTL, err.Error())
		return
	}
	var ttlWriter TTLWriter[V]
	if hasTTL {
		var ok bool
		if ttlWriter, ok = h.b.(TTLWriter[V]); !ok {
			httpError(w, http.StatusNotImplemented, "this store cannot write with a time-to-live per PUT (UpdateWithTTL)")
			return
		}
	}
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	var value V
	if err := h.opts.codec.Unmarshal(body, &value); err != nil {
		httpError(w, http.StatusBadRequest, "cannot decode the body: "+err.Error())
		return
	}
	if hasTTL {
		h.putWithTTL(w, ttlWriter, key, value, ttl, cond)
		return
	}
	for range maxAttempts {
		_, rev, ok := h.precondition(w, key, cond)
		if !ok {
			return
		}
		item, err := h.b.CompareAndSet(key, value, rev)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			storeError(w, err)
			return
		}
		setValidators(w, item)
		status := http.StatusOK
		if rev == 0 {
			status = http.StatusCreated
		}
		w.WriteHeader(status)
		return
	}
	conflictStorm(w)
}

// putWithTTL writes with UpdateWithTTL, whose function evaluates the
// preconditions against the item it is given and writes or keeps it in
// the same step, so they still hold when the write lands. The function
// may run more than once (etcdstore's Update is a loop): only the last
// run's answer counts.
func (h *handler[V]) putWithTTL(w http.ResponseWriter, b TTLWriter[V], key string, value V, ttl time.Duration, cond conditions) {
	var held, created bool
	item, err := b.UpdateWithTTL(key, ttl, func(current *store.Item[V]) (V, store.Op) {
		rev, lm := revisionOf(current)
		held = cond.evaluate(rev, lm, false) == proceed
		created = current == nil
		if !held {
			var zero V
			return zero, store.Keep
		}
		return value, store.Write
	})
	if err != nil {
		storeError(w, err)
		return
	}
	setValidators(w, item)
	switch {
	case !held:
		httpError(w, http.StatusPreconditionFailed, "precondition failed")
	case created:
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// parseTTL reads a PUT's Lastmod-TTL: ok is false when there is none, and
// the error says what is wrong with one that is malformed or negative.
func parseTTL(h http.Header) (ttl time.Duration, ok bool, err error) {
	v := strings.TrimSpace(h.Get(headerTTL))
	if v == "" {
		return 0, false, nil
	}
	ttl, err = time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, false, errors.New(headerTTL + " is not a duration such as 30s or 1h30m")
	case ttl < 0:
		return 0, false, errors.New(headerTTL + " is negative")
	}
	return ttl, true, nil
}

// keyProblem says what makes key one the handler refuses, "" for none.
func (h *handler[V]) keyProblem(key string) string {
	switch {
	case key == "":
		return "empty key"
	case len(key) > h.opts.maxKeyBytes:
		return "key longer than " + strconv.Itoa(h.opts.maxKeyBytes) + " bytes"
	case !utf8.ValidString(key):
		// The listing and the change stream are JSON, which cannot name
		// such a key: it would come out as U+FFFD, like every other one.
		return "key is not valid UTF-8"
	}
	return ""
}

// delete serves DELETE: with no precondition a plain Delete, otherwise as
// put does, with CompareAndDelete at the revision the preconditions held
// at.
func (h *handler[V]) delete(w http.ResponseWriter, key string, cond conditions) {
	if !cond.guardsWrite() {
		if h.opts.requirePrecondition {
			httpError(w, http.StatusPreconditionRequired, "DELETE needs If-Match, If-None-Match or If-Unmodified-Since")
			return
		}
		if err := h.b.Delete(key); err != nil {
			storeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	for range maxAttempts {
		current, rev, ok := h.precondition(w, key, cond)
		if !ok {
			return
		}
		if current == nil {
			// Only If-None-Match can hold for an absent key, and there is
			// nothing to delete.
			httpError(w, http.StatusNotFound, "not found")
			return
		}
		err := h.b.CompareAndDelete(key, rev)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			storeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	conflictStorm(w)
}

// precondition reads key's current item and evaluates cond against it,
// for a conditional write at that item's revision. ok false means it has
// answered the request: a store error, or 412 with the current validators.
func (h *handler[V]) precondition(w http.ResponseWriter, key string, cond conditions) (current *store.Item[V], rev uint64, ok bool) {
	current, err := h.b.Get(key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		storeError(w, err)
		return nil, 0, false
	}
	rev, lm := revisionOf(current)
	if cond.evaluate(rev, lm, false) != proceed {
		setValidators(w, current)
		httpError(w, http.StatusPreconditionFailed, "precondition failed")
		return nil, 0, false
	}
	return current, rev, true
}

// conflictStorm answers a write that lost the race for its key
// maxAttempts times in a row.
func conflictStorm(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	httpErrorCode(w, http.StatusServiceUnavailable, codeBusy, "too many concurrent writes to this key; retry")
}

// revisionOf returns an item's revision and LastModified, zero for nil.
func revisionOf[V any](item *store.Item[V]) (uint64, time.Time) {
	if item == nil {
		return 0, time.Time{}
	}
	return item.Revision, item.LastModified
}

// setValidators sets ETag and Last-Modified of item, and its times to the
// nanosecond (Lastmod-Last-Modified, Lastmod-Expires); nothing for nil.
func setValidators[V any](w http.ResponseWriter, item *store.Item[V]) {
	if item == nil {
		return
	}
	w.Header().Set("ETag", formatETag(item.Revision))
	w.Header().Set("Last-Modified", item.LastModified.UTC().Format(http.TimeFormat))
	w.Header().Set(headerLastModified, formatTime(item.LastModified))
	if !item.ExpiresAt.IsZero() {
		w.Header().Set(headerExpires, formatTime(item.ExpiresAt))
	}
}

// storeError answers a store error: what the client caused is a 4xx, a
// store that is not running or cannot answer for now 503, and only what
// none of these explains 500.
func storeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpError(w, http.StatusNotFound, "not found")
	case errors.Is(err, store.ErrInvalidKey):
		httpErrorCode(w, http.StatusBadRequest, codeInvalidKey, "invalid key")
	case errors.Is(err, store.ErrInvalidTTL):
		httpErrorCode(w, http.StatusBadRequest, codeInvalidTTL, "invalid time-to-live")
	case errors.Is(err, store.ErrNotRunning):
		httpError(w, http.StatusServiceUnavailable, "store not running")
	case errors.Is(err, store.ErrUnavailable):
		// A backend that cannot answer for now (a cluster without a
		// quorum): another replica, or a retry, may do better.
		w.Header().Set("Retry-After", "1")
		httpErrorCode(w, http.StatusServiceUnavailable, codeUnavailable, err.Error())
	case errors.Is(err, store.ErrStoreFull):
		httpError(w, http.StatusInsufficientStorage, "store full")
	default:
		httpError(w, http.StatusInternalServerError, err.Error())
	}
}

// httpError writes a plain-text error with the Lastmod-Error its status
// stands for; unlike http.Error it keeps the ETag and Last-Modified a 412
// carries.
func httpError(w http.ResponseWriter, status int, msg string) {
	httpErrorCode(w, status, statusCodes[status], msg)
}

// httpErrorCode is httpError with a Lastmod-Error of its own, for a status
// that stands for more than one error (400, 503).
func httpErrorCode(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set(headerError, code)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "lastmodhttp: "+msg+"\n")
}

// statusCodes are the Lastmod-Error of each status httpError writes.
var statusCodes = map[int]string{
	http.StatusBadRequest:            codeBadRequest,
	http.StatusNotFound:              codeNotFound,
	http.StatusMethodNotAllowed:      codeMethodNotAllowed,
	http.StatusPreconditionFailed:    codeConflict,
	http.StatusRequestEntityTooLarge: codeTooLarge,
	http.StatusPreconditionRequired:  codePreconditionRequired,
	http.StatusInternalServerError:   codeInternal,
	http.StatusNotImplemented:        codeNotImplemented,
	http.StatusServiceUnavailable:    codeNotRunning,
	http.StatusInsufficientStorage:   codeStoreFull,
}
