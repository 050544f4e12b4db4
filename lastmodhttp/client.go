package lastmodhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lastmodstore/lastmodstore/internal/gate"
	"github.com/lastmodstore/lastmodstore/store"
)

// Errors of the Client beside the store's own, for errors.Is.
var (
	// ErrClosed is returned by every call on a Client after Close, and
	// ends its watches. It matches store.ErrNotRunning too, as the calls
	// of a stopped store do.
	ErrClosed = fmt.Errorf("lastmodhttp: client closed: %w", store.ErrNotRunning)
	// ErrBusy is matched by the error of a write that lost the race for
	// its key to other writers 100 times in a row: the server's, which
	// answers 503 with Retry-After, or the read-and-write loop of an
	// Update or SetIfUnmodifiedSince. Nothing was written, and a retry
	// may succeed.
	ErrBusy = errors.New("lastmodhttp: too many concurrent writes to the key")
	// ErrBadResponse is matched by the error of an answer the Client
	// cannot use: a malformed entity-tag, time, listing or change event,
	// an unexpected media type, or a body over WithMaxResponseBytes.
	ErrBadResponse = errors.New("lastmodhttp: bad response")
	// ErrWatchLost ends a Watch whose connection dropped before its first
	// event: it has no revision to resume after, so changes made until
	// a new stream began would be missed unseen. WatchFrom always has
	// one.
	ErrWatchLost = errors.New("lastmodhttp: change stream lost before its first event, with no revision to resume after")
)

// errNilClient is what the calls of a nil *Client return.
var errNilClient = fmt.Errorf("lastmodhttp: nil Client: %w", store.ErrNotRunning)

// StatusError is an answer the Client has no store error for: a status
// the handler does not give for the call, or one without a Lastmod-Error
// it knows — a proxy's 502, a 404 of a path no handler serves, a 428 of
// a handler made WithRequirePrecondition.
type StatusError struct {
	// StatusCode is the response's HTTP status.
	StatusCode int
	// Code is its Lastmod-Error, "" when it had none.
	Code string
	// Message is the start of its body.
	Message string
}

// Error describes the answer.
func (e *StatusError) Error() string {
	msg := "lastmodhttp: unexpected answer " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode)
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Client is a store's string-key method set over HTTP: a client of a
// handler New serves, at the base URL its handler is mounted at. Its
// methods have the signatures, results and errors of store.Store's —
// store.ErrNotFound, a *store.ConflictError carrying the current item,
// store.ErrStoreFull, store.ErrNotRunning while the server's store is
// stopped, store.ErrInvalidKey, store.ErrInvalidTTL — so code written
// against the store runs against a server unchanged; each also has a
// ...Context variant that a context can cancel. A transport error is
// the *url.Error of net/http.
//
// Every conditional write is an HTTP precondition (If-Match on the
// revision, If-None-Match: * to create), so it lands only on the item it
// was meant for; Update and SetIfUnmodifiedSince read the item and then
// write with If-Match on its revision, again after a conflict, so no
// write of another client is ever overwritten unseen. No write is
// retried by the Client after an error: one whose answer was lost may
// have landed.
//
// A Client has no Start or Shutdown: the store's lifecycle is the
// server's, and the Client reports it as the store would, with
// store.ErrNotRunning. Close ends the Client's watches and its use. A
// Client is safe for concurrent use.
type Client[V any] struct {
	base             string // ends with "/"
	hc               *http.Client
	ownTransport     bool // hc's Transport is the Client's own, closed by Close
	codec            Codec
	timeout          time.Duration
	maxResponseBytes int64

	// calls admits every call and watch; Close closes it and waits for
	// it to drain. ctx is cancelled by Close, ending what is in flight.
	calls  gate.Gate
	ctx    context.Context
	cancel context.CancelFunc
}

// NewClient returns a Client of the handler at baseURL: the URL its
// handler is mounted at ("http://host:8080/kv/"), to which a key's
// escaped path is appended. It returns an error matching
// store.ErrInvalidConfig for a URL that is not absolute http or https,
// or that has a query or fragment. It makes no request.
func NewClient[V any](baseURL string, opts ...ClientOption) (*Client[V], error) {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: base URL: %w", store.ErrInvalidConfig, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("%w: base URL %q is not an absolute http or https URL", store.ErrInvalidConfig, baseURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%w: base URL %q has a query or fragment", store.ErrInvalidConfig, baseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	o := clientOptions{codec: JSON, timeout: DefaultClientTimeout, maxResponseBytes: DefaultMaxResponseBytes}
	for _, opt := range opts {
		opt.applyClient(&o)
	}
	c := &Client[V]{
		base:             u.String(),
		codec:            o.codec,
		timeout:          o.timeout,
		maxResponseBytes: o.maxResponseBytes,
		calls:            gate.New(),
	}
	if o.hc == nil {
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		c.ownTransport = true
	} else {
		hc := *o.hc
		c.hc = &hc
	}
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Close ends the Client: it cancels its calls in flight and ends its
// watches (their channels end with an EventEnd of ErrClosed), waits for
// them, and closes the idle connections of the transport it made itself
// (not those of a client given with WithHTTPClient). Every later call
// returns ErrClosed. Close is idempotent and returns nil; on a nil
// Client too.
func (c *Client[V]) Close() error {
	if c == nil {
		return nil
	}
	c.calls.Close()
	c.cancel()
	<-c.calls.Drained()
	if c.ownTransport {
		c.hc.CloseIdleConnections()
	}
	return nil
}

// enter admits a call, or returns the error of a Client that cannot take
// one; a call admitted must leave.
func (c *Client[V]) enter() error {
	if c == nil {
		return errNilClient
	}
	if !c.calls.Enter() {
		return ErrClosed
	}
	return nil
}

func (c *Client[V]) leave() { c.calls.Leave() }

// keyPath is the path of key below the base URL. Every byte but the
// unreserved ones is escaped, the slash too, so the key is one path
// segment that no ServeMux cleans; "." and ".." escape their dots for
// the same reason.
func keyPath(key string) string {
	switch key {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(key)
}

// checkKey refuses a key no handler can address: the empty key (the
// root), and one that is not valid UTF-8.
func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: the empty key is the root, not an item", store.ErrInvalidKey)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: %q is not valid UTF-8", store.ErrInvalidKey, key)
	}
	return nil
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// request is one call's request; path is below the base URL, with a
// query if any.
type request struct {
	method, path string
	body         []byte
	contentType  string
	header       http.Header
}

// do sends req within the call's timeout and reads its answer. Its error
// is the transport's, or ErrClosed when Close cut the call short.
func (c *Client[V]) do(ctx context.Context, req request) (answer, error) {
	if err := c.enter(); err != nil {
		return answer{}, err
	}
	defer c.leave()
	if ctx == nil {
		return answer{}, store.ErrNilContext
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	defer context.AfterFunc(c.ctx, cancel)()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, c.base+req.path, body)
	if err != nil {
		return answer{}, err
	}
	for k, v := range req.header {
		hreq.Header[k] = v
	}
	if req.contentType != "" {
		hreq.Header.Set("Content-Type", req.contentType)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return answer{}, c.transportError(err)
	}
	defer resp.Body.Close()
	b, err := c.readAll(resp.Body)
	if err != nil {
		return answer{}, c.transportError(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// transportError is err, or ErrClosed when Close cancelled the call.
func (c *Client[V]) transportError(err error) error {
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	return err
}

// readAll reads r up to the Client's limit.
func (c *Client[V]) readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, c.maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > c.maxResponseBytes {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrBadResponse, c.maxResponseBytes)
	}
	return b, nil
}

// errorOf maps an answer the call did not expect to the store's error its
// Lastmod-Error names, or a *StatusError.
func errorOf(a answer) error {
	code := a.header.Get(headerError)
	msg := strings.TrimSpace(strings.TrimPrefix(string(a.body), "lastmodhttp: "))
	switch code {
	case codeNotFound:
		return store.ErrNotFound
	case codeConflict:
		return conflictOf(a.header)
	case codeStoreFull:
		return store.ErrStoreFull
	case codeNotRunning:
		return store.ErrNotRunning
	case codeUnavailable:
		return fmt.Errorf("%w: %s", store.ErrUnavailable, msg)
	case codeInvalidKey:
		return fmt.Errorf("%w: %s", store.ErrInvalidKey, msg)
	case codeInvalidTTL:
		return fmt.Errorf("%w: %s", store.ErrInvalidTTL, msg)
	case codeBusy:
		return fmt.Errorf("%w: %s", ErrBusy, msg)
	case codeNotImplemented:
		return fmt.Errorf("%w: %s", errors.ErrUnsupported, msg)
	}
	const most = 512
	if len(msg) > most {
		msg = strings.ToValidUTF8(msg[:most], "") + "…"
	}
	return &StatusError{StatusCode: a.status, Code: code, Message: msg}
}

// conflictOf is the *store.ConflictError of a 412: the current item's
// revision and LastModified, zero when the key has none. A validator the
// Client cannot read counts as none.
func conflictOf(h http.Header) error {
	ce := &store.ConflictError{}
	if rev, err := parseRevision(h.Get("ETag")); err == nil {
		ce.Revision = rev
		ce.LastModified, _ = lastModifiedOf(h)
	}
	return ce
}

// parseRevision reads the revision of a strong entity-tag the handler
// gave.
func parseRevision(etag string) (uint64, error) {
	opaque, ok := strings.CutPrefix(etag, `"`)
	if ok {
		opaque, ok = strings.CutSuffix(opaque, `"`)
	}
	if !ok {
		return 0, fmt.Errorf("%w: entity-tag %q is not a strong revision", ErrBadResponse, etag)
	}
	rev, err := strconv.ParseUint(opaque, 10, 64)
	if err != nil || rev == 0 {
		return 0, fmt.Errorf("%w: entity-tag %q is not a strong revision", ErrBadResponse, etag)
	}
	return rev, nil
}

// lastModifiedOf reads an item's LastModified from its headers: to the
// nanosecond when the server sent Lastmod-Last-Modified, to the second
// from Last-Modified otherwise.
func lastModifiedOf(h http.Header) (time.Time, error) {
	if v := h.Get(headerLastModified); v != "" {
		return parseTime(headerLastModified, v)
	}
	t, err := http.ParseTime(h.Get("Last-Modified"))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: no Last-Modified", ErrBadResponse)
	}
	return t, nil
}

// parseTime reads a time of one of lastmodhttp's headers.
func parseTime(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not an RFC 3339 time", ErrBadResponse, name, v)
	}
	return t, nil
}

// itemOf is the item an answer's headers describe, with value.
func itemOf[V any](h http.Header, value V) (*store.Item[V], error) {
	rev, err := parseRevision(h.Get("ETag"))
	if err != nil {
		return nil, err
	}
	lm, err := lastModifiedOf(h)
	if err != nil {
		return nil, err
	}
	item := &store.Item[V]{Value: value, Revision: rev, LastModified: lm}
	if v := h.Get(headerExpires); v != "" {
		if item.ExpiresAt, err = parseTime(headerExpires, v); err != nil {
			return nil, err
		}
	}
	return item, nil
}

// decode decodes a value the server sent with the Client's codec.
func (c *Client[V]) decode(data []byte) (V, error) {
	var v V
	if err := c.codec.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("%w: cannot decode the value: %w", ErrBadResponse, err)
	}
	return v, nil
}
