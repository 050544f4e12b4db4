package lastmodhttp

import (
	"net/http"
	"time"
)

// Defaults of the client's options.
const (
	// DefaultClientTimeout bounds each call of a Client, and the
	// reconnecting of a Watch, unless WithTimeout says otherwise.
	DefaultClientTimeout = 30 * time.Second
	// DefaultMaxResponseBytes is the largest response body, and change
	// event, a Client reads unless WithMaxResponseBytes says otherwise:
	// 64 MiB, room for a listing of many items.
	DefaultMaxResponseBytes = 64 << 20
)

// ClientOption configures the Client NewClient returns.
type ClientOption interface {
	applyClient(*clientOptions)
}

type clientOptions struct {
	hc               *http.Client
	codec            Codec
	timeout          time.Duration
	maxResponseBytes int64
}

type clientOptionFunc func(*clientOptions)

func (f clientOptionFunc) applyClient(o *clientOptions) { f(o) }

// WithHTTPClient makes the Client send its requests with hc (its
// Transport, TLS settings, cookies) instead of a client of its own. The
// Client uses a copy that does not follow redirects: a store's answers
// are never redirects, and following one could turn a Get into a
// listing. Its Timeout, if any, bounds change streams too: a Watch cut by
// it reconnects, resuming where it was. A nil hc is ignored.
func WithHTTPClient(hc *http.Client) ClientOption {
	return clientOptionFunc(func(o *clientOptions) {
		if hc != nil {
			o.hc = hc
		}
	})
}

// WithClientCodec makes the Client encode and decode values with c
// instead of JSON; it must be the codec the server's handler was given
// (WithCodec). A Codec missing its Marshal, Unmarshal or ContentType is
// ignored, as WithCodec ignores it.
func WithClientCodec(c Codec) ClientOption {
	return clientOptionFunc(func(o *clientOptions) {
		if c.Marshal != nil && c.Unmarshal != nil && c.ContentType != "" {
			o.codec = c
		}
	})
}

// WithTimeout bounds each call of the Client — a request and the reading
// of its answer — and how long a Watch whose connection dropped tries to
// reconnect before it ends. A change stream itself is not bounded by it
// once it has begun. d <= 0 keeps DefaultClientTimeout.
func WithTimeout(d time.Duration) ClientOption {
	return clientOptionFunc(func(o *clientOptions) {
		if d > 0 {
			o.timeout = d
		}
	})
}

// WithMaxResponseBytes sets the largest response body, and change event,
// the Client reads; a larger one is an error matching ErrBadResponse, so
// a server that answers without end cannot exhaust the client's memory.
// n <= 0 keeps DefaultMaxResponseBytes.
func WithMaxResponseBytes(n int64) ClientOption {
	return clientOptionFunc(func(o *clientOptions) {
		if n > 0 {
			o.maxResponseBytes = n
		}
	})
}
