package lastmodhttp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/lastmodstore/lastmodstore/store"
)

// The Client's methods: each plain one is its ...Context variant with
// context.Background(), bounded by the Client's timeout (WithTimeout).

// Get returns key's live item: GET /{key}. It returns store.ErrNotFound
// for a key that is absent or has expired.
func (c *Client[V]) Get(key string) (*store.Item[V], error) {
	return c.GetContext(context.Background(), key)
}

// GetContext is Get, ended early when ctx is.
func (c *Client[V]) GetContext(ctx context.Context, key string) (*store.Item[V], error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	a, err := c.do(ctx, request{method: http.MethodGet, path: keyPath(key)})
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, errorOf(a)
	}
	v, err := c.decode(a.body)
	if err != nil {
		return nil, err
	}
	return itemOf(a.header, v)
}

// Set writes value under key with the server's default time-to-live: an
// unconditional PUT /{key}, last writer wins. It returns
// store.ErrStoreFull for a new key that does not fit. A handler made
// WithRequirePrecondition refuses it (a *StatusError of 428): write with
// CompareAndSet or Update there.
func (c *Client[V]) Set(key string, value V) error {
	return c.SetContext(context.Background(), key, value)
}

// SetContext is Set, ended early when ctx is.
func (c *Client[V]) SetContext(ctx context.Context, key string, value V) error {
	_, err := c.put(ctx, key, value, putArgs{})
	return err
}

// SetWithTTL is Set with a time-to-live of its own (Lastmod-TTL); 0 means
// the item never expires, and a negative ttl returns store.ErrInvalidTTL.
// A server whose store cannot write with a TTL answers an error matching
// errors.ErrUnsupported.
func (c *Client[V]) SetWithTTL(key string, value V, ttl time.Duration) error {
	return c.SetWithTTLContext(context.Background(), key, value, ttl)
}

// SetWithTTLContext is SetWithTTL, ended early when ctx is.
func (c *Client[V]) SetWithTTLContext(ctx context.Context, key string, value V, ttl time.Duration) error {
	_, err := c.put(ctx, key, value, putArgs{ttl: ttl, hasTTL: true})
	return err
}

// Delete removes key: DELETE /{key}. It returns store.ErrNotFound for a
// key that is absent.
func (c *Client[V]) Delete(key string) error {
	return c.DeleteContext(context.Background(), key)
}

// DeleteContext is Delete, ended early when ctx is.
func (c *Client[V]) DeleteContext(ctx context.Context, key string) error {
	return c.delete(ctx, key, nil)
}

// CompareAndSet writes value under key only if key's item is at revision,
// with If-Match: "revision"; revision 0 creates an absent key only, with
// If-None-Match: *. It returns the written item, or a *store.ConflictError
// (matching store.ErrConflict) carrying the current item's revision and
// LastModified, zero when key is absent; it also returns Set's errors.
func (c *Client[V]) CompareAndSet(key string, value V, revision uint64) (*store.Item[V], error) {
	return c.CompareAndSetContext(context.Background(), key, value, revision)
}

// CompareAndSetContext is CompareAndSet, ended early when ctx is.
func (c *Client[V]) CompareAndSetContext(ctx context.Context, key string, value V, revision uint64) (*store.Item[V], error) {
	return c.put(ctx, key, value, putArgs{cond: revisionCondition(revision), item: true})
}

// CompareAndDelete removes key only if its item is at revision, with
// If-Match: "revision". It returns a *store.ConflictError carrying the
// current item otherwise, of revision 0 when key is absent.
func (c *Client[V]) CompareAndDelete(key string, revision uint64) error {
	return c.CompareAndDeleteContext(context.Background(), key, revision)
}

// CompareAndDeleteContext is CompareAndDelete, ended early when ctx is.
func (c *Client[V]) CompareAndDeleteContext(ctx context.Context, key string, revision uint64) error {
	return c.delete(ctx, key, http.Header{"If-Match": {formatETag(revision)}})
}

// SetIfUnmodifiedSince writes value under key only if key's item was not
// modified after t, to the nanosecond. HTTP's If-Unmodified-Since names
// whole seconds, too coarse for that, so it reads the item and writes
// with If-Match on its revision, reading again if another write came
// first (up to 100 times, then ErrBusy, as Update). It returns the written item, or a *store.ConflictError carrying
// the item that was modified after t, of revision 0 when key is absent.
func (c *Client[V]) SetIfUnmodifiedSince(key string, value V, t time.Time) (*store.Item[V], error) {
	return c.SetIfUnmodifiedSinceContext(context.Background(), key, value, t)
}

// SetIfUnmodifiedSinceContext is SetIfUnmodifiedSince, ended early when
// ctx is.
func (c *Client[V]) SetIfUnmodifiedSinceContext(ctx context.Context, key string, value V, t time.Time) (*store.Item[V], error) {
	for range maxAttempts {
		cur, err := c.unmodifiedSince(ctx, key, t)
		if err != nil {
			return nil, err
		}
		item, err := c.CompareAndSetContext(ctx, key, value, cur.Revision)
		if !errors.Is(err, store.ErrConflict) {
			return item, err
		}
	}
	return nil, errLostRaces(key)
}

// errLostRaces is the error of a read-and-write loop that lost the race
// for key maxAttempts times in a row. Every lost race is another
// client's write that landed, so this is contention, or a server that
// answers 412 to every write.
func errLostRaces(key string) error {
	return fmt.Errorf("%w: lost the race for %s %d times in a row", ErrBusy, quoteKey(key), maxAttempts)
}

// DeleteIfUnmodifiedSince removes key only if its item was not modified
// after t, as SetIfUnmodifiedSince writes.
func (c *Client[V]) DeleteIfUnmodifiedSince(key string, t time.Time) error {
	return c.DeleteIfUnmodifiedSinceContext(context.Background(), key, t)
}

// DeleteIfUnmodifiedSinceContext is DeleteIfUnmodifiedSince, ended early
// when ctx is.
func (c *Client[V]) DeleteIfUnmodifiedSinceContext(ctx context.Context, key string, t time.Time) error {
	for range maxAttempts {
		cur, err := c.unmodifiedSince(ctx, key, t)
		if err != nil {
			return err
		}
		err = c.CompareAndDeleteContext(ctx, key, cur.Revision)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return errLostRaces(key)
}

// unmodifiedSince returns key's item if it was not modified after t, and
// the *store.ConflictError that refuses it otherwise.
func (c *Client[V]) unmodifiedSince(ctx context.Context, key string, t time.Time) (*store.Item[V], error) {
	cur, err := c.GetContext(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, &store.ConflictError{}
	case err != nil:
		return nil, err
	case cur.LastModified.After(t):
		return nil, &store.ConflictError{Revision: cur.Revision, LastModified: cur.LastModified}
	}
	return cur, nil
}

// GetMany returns the live items of keys, read at one instant, in one
// request: POST / with {"get": keys}. Absent keys are left out; no keys
// give an empty map.
func (c *Client[V]) GetMany(keys []string) (map[string]*store.Item[V], error) {
	return c.GetManyContext(context.Background(), keys)
}

// GetManyContext is GetMany, ended early when ctx is.
func (c *Client[V]) GetManyContext(ctx context.Context, keys []string) (map[string]*store.Item[V], error) {
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	if keys == nil {
		keys = []string{}
	}
	body, err := json.Marshal(batchRequest{Get: &keys})
	if err != nil {
		return nil, err
	}
	return c.items(ctx, request{method: http.MethodPost, body: body, contentType: "application/json"})
}

// SetMany writes every item, all or nothing, in one request: POST / with
// {"set": items}. It returns store.ErrStoreFull, writing nothing, when
// the new keys do not fit.
func (c *Client[V]) SetMany(items map[string]V) error {
	return c.SetManyContext(context.Background(), items)
}

// SetManyContext is SetMany, ended early when ctx is.
func (c *Client[V]) SetManyContext(ctx context.Context, items map[string]V) error {
	if c == nil {
		return errNilClient
	}
	set := make(map[string]json.RawMessage, len(items))
	for k, v := range items {
		if err := checkKey(k); err != nil {
			return err
		}
		raw, err := c.listedValue(v)
		if err != nil {
			return err
		}
		set[k] = raw
	}
	body, err := json.Marshal(batchRequest{Set: &set})
	if err != nil {
		return err
	}
	a, err := c.do(ctx, request{method: http.MethodPost, body: body, contentType: "application/json"})
	if err != nil {
		return err
	}
	if a.status != http.StatusNoContent {
		return errorOf(a)
	}
	return nil
}

// List returns every live item: GET /.
func (c *Client[V]) List() (map[string]*store.Item[V], error) {
	return c.ListContext(context.Background())
}

// ListContext is List, ended early when ctx is.
func (c *Client[V]) ListContext(ctx context.Context) (map[string]*store.Item[V], error) {
	return c.items(ctx, request{method: http.MethodGet})
}

// ModifiedSince returns the live items modified after t, to the
// nanosecond: GET /?modified-since=t.
func (c *Client[V]) ModifiedSince(t time.Time) (map[string]*store.Item[V], error) {
	return c.ModifiedSinceContext(context.Background(), t)
}

// ModifiedSinceContext is ModifiedSince, ended early when ctx is.
func (c *Client[V]) ModifiedSinceContext(ctx context.Context, t time.Time) (map[string]*store.Item[V], error) {
	return c.items(ctx, request{method: http.MethodGet, path: "?modified-since=" + url.QueryEscape(formatTime(t))})
}

// Size returns the number of live items: GET /?size.
func (c *Client[V]) Size() (int, error) {
	return c.SizeContext(context.Background())
}

// SizeContext is Size, ended early when ctx is.
func (c *Client[V]) SizeContext(ctx context.Context) (int, error) {
	var out struct {
		Size *int `json:"size"`
	}
	if err := c.getJSON(ctx, "?size", &out); err != nil {
		return 0, err
	}
	if out.Size == nil {
		return 0, fmt.Errorf("%w: no size", ErrBadResponse)
	}
	return *out.Size, nil
}

// Stats returns the store's counters: GET /?stats. They count what the
// server's handler asked of the store, which reads an item before each
// PUT without a TTL and each conditional DELETE, so Hits and Misses
// count those reads too.
// A server whose store keeps no counters answers an error matching
// errors.ErrUnsupported.
func (c *Client[V]) Stats() (store.Stats, error) {
	return c.StatsContext(context.Background())
}

// StatsContext is Stats, ended early when ctx is.
func (c *Client[V]) StatsContext(ctx context.Context) (store.Stats, error) {
	var out wireStats
	if err := c.getJSON(ctx, "?stats", &out); err != nil {
		return store.Stats{}, err
	}
	return store.Stats(out), nil
}

// Clear removes every item: DELETE / with If-Match: *, which the handler
// asks for so that no Clear is sent by mistake.
func (c *Client[V]) Clear() error {
	return c.ClearContext(context.Background())
}

// ClearContext is Clear, ended early when ctx is.
func (c *Client[V]) ClearContext(ctx context.Context) error {
	a, err := c.do(ctx, request{method: http.MethodDelete, header: http.Header{"If-Match": {"*"}}})
	if err != nil {
		return err
	}
	if a.status != http.StatusNoContent {
		return errorOf(a)
	}
	return nil
}

// Update is a read-modify-write of key: f gets key's live item (nil when
// none) and answers store.Keep, store.Write or store.Remove, as in
// store.Store.Update. Over HTTP it is a loop in the Client: it reads the
// item, runs f, and writes what f asked for with If-Match on the item's
// revision (If-None-Match: * for an absent key); when another write came
// first, it reads again and runs f again, up to 100 times before it
// gives up with an error matching ErrBusy (every round it loses is
// another client's write that landed). So f may run more than once, and
// must have no effect beside its answer. It returns
// the item key holds once the Update is done: a Keep returns the item f
// was given, a Remove nil.
//
// f runs on the caller's goroutine, between requests, so it may call the
// Client. A panic in f is recovered and returned as an error matching
// store.ErrUpdatePanicked (and the panic value, if an error), as is an Op
// that is none of the three; a runtime.Goexit in f ends the caller's
// goroutine, as it would anywhere else on it. Either way nothing is
// written. Update returns an error matching store.ErrNilArgument for a
// nil f, and the errors of Get, CompareAndSet and CompareAndDelete.
func (c *Client[V]) Update(key string, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	return c.UpdateContext(context.Background(), key, f)
}

// UpdateContext is Update, ended early when ctx is.
func (c *Client[V]) UpdateContext(ctx context.Context, key string, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	return c.update(ctx, key, putArgs{}, f)
}

// UpdateWithTTL is Update with a time-to-live of its own for a Write, as
// SetWithTTL has; a negative ttl returns store.ErrInvalidTTL before f
// runs.
func (c *Client[V]) UpdateWithTTL(key string, ttl time.Duration, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	return c.UpdateWithTTLContext(context.Background(), key, ttl, f)
}

// UpdateWithTTLContext is UpdateWithTTL, ended early when ctx is.
func (c *Client[V]) UpdateWithTTLContext(ctx context.Context, key string, ttl time.Duration, f func(item *store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	if ttl < 0 {
		return nil, store.ErrInvalidTTL
	}
	return c.update(ctx, key, putArgs{ttl: ttl, hasTTL: true}, f)
}

func (c *Client[V]) update(ctx context.Context, key string, args putArgs, f func(*store.Item[V]) (V, store.Op)) (*store.Item[V], error) {
	if c == nil {
		return nil, errNilClient
	}
	if f == nil {
		return nil, fmt.Errorf("%w: Update with a nil function", store.ErrNilArgument)
	}
	for range maxAttempts {
		cur, err := c.GetContext(ctx, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		value, op, err := runUpdate(f, cur)
		if err != nil {
			return nil, err
		}
		var rev uint64
		if cur != nil {
			rev = cur.Revision
		}
		var item *store.Item[V]
		switch op {
		case store.Keep:
			return cur, nil
		case store.Remove:
			if cur == nil {
				return nil, nil
			}
			err = c.CompareAndDeleteContext(ctx, key, rev)
		case store.Write:
			args.cond, args.item = revisionCondition(rev), true
			item, err = c.put(ctx, key, value, args)
		}
		if !errors.Is(err, store.ErrConflict) {
			return item, err
		}
	}
	return nil, errLostRaces(key)
}

// runUpdate runs f with item, returning a panic of f, or an unknown Op,
// as an error matching store.ErrUpdatePanicked.
func runUpdate[V any](f func(*store.Item[V]) (V, store.Op), item *store.Item[V]) (value V, op store.Op, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		p := recover() // nil for a runtime.Goexit, which goes on
		if e, ok := p.(error); ok {
			err = fmt.Errorf("%w: %w", store.ErrUpdatePanicked, e)
		} else {
			err = fmt.Errorf("%w: %v", store.ErrUpdatePanicked, p)
		}
	}()
	value, op = f(item)
	returned = true
	switch op {
	case store.Keep, store.Write, store.Remove:
		return value, op, nil
	}
	return value, op, fmt.Errorf("%w: the function returned an unknown Op (%d)", store.ErrUpdatePanicked, op)
}

// All returns an iterator over the live items of one List, in
// modification order, oldest first (by Revision, then key, for items one
// write made). The List is made when iteration begins; a failed one
// yields nothing.
func (c *Client[V]) All() iter.Seq2[string, *store.Item[V]] {
	return func(yield func(string, *store.Item[V]) bool) {
		items, err := c.List()
		if err != nil {
			return
		}
		keys := make([]string, 0, len(items))
		for k := range items {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			return cmp.Or(cmp.Compare(items[a].Revision, items[b].Revision), cmp.Compare(a, b))
		})
		for _, k := range keys {
			if !yield(k, items[k]) {
				return
			}
		}
	}
}

// Keys returns an iterator over the keys of one List, as All orders
// them.
func (c *Client[V]) Keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range c.All() {
			if !yield(k) {
				return
			}
		}
	}
}

// putArgs are what a PUT carries beside the key and value.
type putArgs struct {
	ttl    time.Duration
	hasTTL bool        // send ttl as Lastmod-TTL
	cond   http.Header // preconditions
	item   bool        // the caller wants the written item
}

// revisionCondition is the precondition of a write at revision: If-Match
// on it, or If-None-Match: * for 0, an absent key.
func revisionCondition(revision uint64) http.Header {
	if revision == 0 {
		return http.Header{"If-None-Match": {"*"}}
	}
	return http.Header{"If-Match": {formatETag(revision)}}
}

// put sends PUT /{key} and returns the written item when args ask for
// it: its value is decoded from the body sent, as the server decoded it.
func (c *Client[V]) put(ctx context.Context, key string, value V, args putArgs) (*store.Item[V], error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if args.hasTTL && args.ttl < 0 {
		return nil, store.ErrInvalidTTL
	}
	if c == nil {
		return nil, errNilClient
	}
	body, err := c.codec.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("lastmodhttp: cannot encode the value: %w", err)
	}
	header := http.Header{}
	for k, v := range args.cond {
		header[k] = v
	}
	if args.hasTTL {
		header.Set(headerTTL, args.ttl.String())
	}
	a, err := c.do(ctx, request{method: http.MethodPut, path: keyPath(key), body: body, contentType: c.codec.ContentType, header: header})
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK && a.status != http.StatusCreated {
		return nil, errorOf(a)
	}
	if !args.item {
		return nil, nil
	}
	var v V
	if err := c.codec.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("lastmodhttp: cannot decode the value written: %w", err)
	}
	return itemOf(a.header, v)
}

// delete sends DELETE /{key} with the preconditions in cond.
func (c *Client[V]) delete(ctx context.Context, key string, cond http.Header) error {
	if err := checkKey(key); err != nil {
		return err
	}
	a, err := c.do(ctx, request{method: http.MethodDelete, path: keyPath(key), header: cond})
	if err != nil {
		return err
	}
	if a.status != http.StatusNoContent {
		return errorOf(a)
	}
	return nil
}

// items sends req and decodes the listing it answers.
func (c *Client[V]) items(ctx context.Context, req request) (map[string]*store.Item[V], error) {
	a, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, errorOf(a)
	}
	return decodeItems[V](c.codec, a.body)
}

// getJSON sends GET / with query and decodes its JSON answer into out.
func (c *Client[V]) getJSON(ctx context.Context, query string, out any) error {
	a, err := c.do(ctx, request{method: http.MethodGet, path: query})
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return errorOf(a)
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return nil
}

// listedValue is v as a batch carries it, which is as the listing shows
// it: a JSON codec's encoding as it is, any other's as a base64 string.
func (c *Client[V]) listedValue(v V) (json.RawMessage, error) {
	raw, err := c.codec.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("lastmodhttp: cannot encode the value: %w", err)
	}
	if isJSON(c.codec.ContentType) {
		if !json.Valid(raw) {
			return nil, errors.New("lastmodhttp: the JSON codec's encoding of the value is not JSON")
		}
		return raw, nil
	}
	return json.Marshal(raw)
}

// wireItem is a listedItem as the Client reads it.
type wireItem struct {
	Key          string          `json:"key"`
	Value        json.RawMessage `json:"value"`
	Revision     uint64          `json:"revision"`
	LastModified time.Time       `json:"lastModified"`
	ExpiresAt    time.Time       `json:"expiresAt"`
}

// decodeItems decodes a listing: a JSON object of key → item.
func decodeItems[V any](c Codec, body []byte) (map[string]*store.Item[V], error) {
	var raw map[string]wireItem
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%w: listing: %w", ErrBadResponse, err)
	}
	out := make(map[string]*store.Item[V], len(raw))
	for k, w := range raw {
		item, err := decodeItem[V](c, w)
		if err != nil {
			return nil, fmt.Errorf("%w (item %s)", err, quoteKey(k))
		}
		out[k] = item
	}
	return out, nil
}

// decodeItem is the item a wireItem describes.
func decodeItem[V any](c Codec, w wireItem) (*store.Item[V], error) {
	if w.Value == nil || w.Revision == 0 {
		return nil, fmt.Errorf("%w: an item without its value or revision", ErrBadResponse)
	}
	var v V
	if err := decodeListed(c, w.Value, &v); err != nil {
		return nil, fmt.Errorf("%w: cannot decode the value: %w", ErrBadResponse, err)
	}
	return &store.Item[V]{Value: v, Revision: w.Revision, LastModified: w.LastModified, ExpiresAt: w.ExpiresAt}, nil
}
