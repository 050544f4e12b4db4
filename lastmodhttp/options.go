package lastmodhttp

import (
	"encoding/json"
	"time"
)

// Defaults of the options.
const (
	// DefaultMaxBodyBytes is the largest PUT body New accepts unless
	// WithMaxBodyBytes says otherwise: 1 MiB.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxKeyBytes is the longest key New accepts unless
	// WithMaxKeyBytes says otherwise.
	DefaultMaxKeyBytes = 1024
	// DefaultStreamWriteTimeout is how long one write to a change stream
	// may take unless WithStreamWriteTimeout says otherwise.
	DefaultStreamWriteTimeout = 10 * time.Second
)

// Codec turns values into response bodies and request bodies into values.
type Codec struct {
	// ContentType is the media type of the bodies, sent as Content-Type.
	ContentType string
	// Marshal encodes a value.
	Marshal func(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to; an error makes
	// the PUT a 400 that writes nothing.
	Unmarshal func(data []byte, v any) error
}

// JSON is the default Codec: encoding/json, application/json.
var JSON = Codec{ContentType: "application/json", Marshal: json.Marshal, Unmarshal: json.Unmarshal}

// Option configures the handler New returns.
type Option interface {
	apply(*options)
}

type options struct {
	codec               Codec
	maxBodyBytes        int64
	maxKeyBytes         int
	requirePrecondition bool
	streamWriteTimeout  time.Duration
}

func defaultOptions() options {
	return options{
		codec:              JSON,
		maxBodyBytes:       DefaultMaxBodyBytes,
		maxKeyBytes:        DefaultMaxKeyBytes,
		streamWriteTimeout: DefaultStreamWriteTimeout,
	}
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithCodec makes the handler encode and decode values with c instead of
// JSON. A Codec missing its Marshal or Unmarshal, or its ContentType, is
// ignored: the handler keeps JSON. The listing of GET / stays JSON either
// way; values of a codec whose ContentType is not JSON appear in it as
// base64 strings of their encoding.
func WithCodec(c Codec) Option {
	return optionFunc(func(o *options) {
		if c.Marshal != nil && c.Unmarshal != nil && c.ContentType != "" {
			o.codec = c
		}
	})
}

// WithMaxBodyBytes sets the largest PUT body the handler reads; a larger
// one is refused with 413 Request Entity Too Large. n <= 0 keeps
// DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.maxBodyBytes = n
		}
	})
}

// WithMaxKeyBytes sets the longest key, in bytes after URL-unescaping; a
// longer one is refused with 400 Bad Request. n <= 0 keeps
// DefaultMaxKeyBytes.
func WithMaxKeyBytes(n int) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.maxKeyBytes = n
		}
	})
}

// WithRequirePrecondition makes the handler refuse a PUT or DELETE that
// carries none of If-Match, If-None-Match or a valid If-Unmodified-Since
// with 428 Precondition Required, so no client can overwrite what it has
// not seen (RFC 6585 §3).
func WithRequirePrecondition() Option {
	return optionFunc(func(o *options) { o.requirePrecondition = true })
}

// WithStreamWriteTimeout sets how long one event's write to a change
// stream may take; a stream whose client does not take an event within d
// (it stopped reading, or its network did) ends. An idle stream is not
// affected: the deadline covers the writes only. d <= 0 keeps
// DefaultStreamWriteTimeout.
//
// The stream sets its deadlines with http.ResponseController, replacing
// a server's WriteTimeout, so a stream outlives it; when the
// ResponseWriter cannot set deadlines (a wrapper without Unwrap), its
// writes are unbounded and a WriteTimeout ends it.
func WithStreamWriteTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.streamWriteTimeout = d
		}
	})
}
