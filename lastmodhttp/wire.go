package lastmodhttp

import "time"

// The headers lastmodhttp adds to HTTP's own. HTTP dates have one-second
// precision, too coarse for a store whose every write has a LastModified
// of its own, so an item's times travel in RFC 3339 with nanoseconds too.
const (
	// headerTTL on a PUT is the written item's time-to-live, in Go's
	// duration syntax ("30s", "1h30m"); "0s" is never.
	headerTTL = "Lastmod-TTL"
	// headerLastModified is an item's LastModified, to the nanosecond,
	// beside Last-Modified.
	headerLastModified = "Lastmod-Last-Modified"
	// headerExpires is an item's ExpiresAt, to the nanosecond; absent
	// for an item that never expires.
	headerExpires = "Lastmod-Expires"
	// headerError names the error of a response the handler refused, so
	// a client tells the store's answers apart from each other (two 400s,
	// two 503s) and from those of anything else on the path (a proxy's
	// 404).
	headerError = "Lastmod-Error"
	// headerReset on a change stream says why it could not resume after
	// Last-Event-ID (one of the reset* values); the stream begins with
	// an "event: reset" then.
	headerReset = "Lastmod-Reset"
	// headerOldest is the oldest revision a compacted history can still
	// resume after, beside headerReset's resetCompacted.
	headerOldest = "Lastmod-Oldest"
)

// The values of headerError.
const (
	codeNotFound             = "not-found"
	codeConflict             = "precondition-failed"
	codeStoreFull            = "store-full"
	codeNotRunning           = "not-running"
	codeInvalidKey           = "invalid-key"
	codeInvalidTTL           = "invalid-ttl"
	codeBusy                 = "busy"
	codeUnavailable          = "unavailable"
	codeNotImplemented       = "not-implemented"
	codeBadRequest           = "bad-request"
	codeTooLarge             = "too-large"
	codeMethodNotAllowed     = "method-not-allowed"
	codePreconditionRequired = "precondition-required"
	codeInternal             = "internal"
)

// The values of headerReset.
const (
	resetCompacted   = "compacted"
	resetFuture      = "future"
	resetMalformed   = "malformed"
	resetUnsupported = "unsupported"
)

// The reasons of an "event: end", which a client maps back to why the
// store ended the watch.
const (
	endStopped   = "store stopped"
	endLagging   = "client fell behind; reconnect with Last-Event-ID to resume"
	endCompacted = "the history moved past this stream while it replayed; list the store again"
	endEnded     = "ended"
)

// formatTime is t as lastmodhttp's own headers carry it.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
