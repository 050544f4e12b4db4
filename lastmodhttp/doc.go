// Package lastmodhttp serves a lastmodstore store over HTTP with the
// conditional requests of RFC 9110 §13: an item's Revision is its strong
// ETag and its LastModified its Last-Modified date, so clients validate
// their caches (304 Not Modified) and update without losing each other's
// writes (412 Precondition Failed).
//
// New returns an http.Handler for a Backend, meant to be mounted with
// http.StripPrefix; what is left of the path, URL-unescaped and without its
// leading slash, is the key:
//
//	GET, HEAD /{key}   the value, ETag and Last-Modified; 304 when the
//	                   client's copy is current; 404 when missing or expired
//	PUT /{key}         write; 201 on create, 200 on update; conditional
//	                   with If-Match, If-None-Match, If-Unmodified-Since;
//	                   Lastmod-TTL: 30s gives the item a time-to-live
//	DELETE /{key}      delete; 204; the same preconditions
//	GET, HEAD /        every item, or those changed after ?modified-since=
//	GET / (Accept: text/event-stream)
//	                   the store's changes as Server-Sent Events
//	POST /             a batch, one step of the store's, all or nothing:
//	                   {"get": [keys…]} answers the items as GET / does
//	                   (GetMany), {"set": {key: value, …}} writes them,
//	                   204 (SetMany)
//	DELETE /           Clear, 204; only with If-Match: *, else 428
//	GET /?size         {"size": n}
//	GET /?stats        the store's counters (Stats) as JSON
//
// The empty key cannot be addressed: it is the root, where PUT answers
// 405.
//
// Every item a response names carries, beside ETag and Last-Modified
// (whole seconds), its LastModified and ExpiresAt to the nanosecond in
// Lastmod-Last-Modified and Lastmod-Expires (RFC 3339; absent for an
// item that never expires). Every error names itself in Lastmod-Error
// (not-found, precondition-failed, store-full, not-running, busy,
// unavailable — an error matching store.ErrUnavailable, 503 with
// Retry-After —, invalid-key, invalid-ttl, bad-request, too-large,
// not-implemented, …),
// so a client tells the store's answers from a proxy's and two of one
// status apart. What the Backend lacks is 501 with a body naming the
// method it would need: a per-PUT TTL needs UpdateWithTTL (TTLWriter),
// the batches GetMany and SetMany, DELETE / Clear, ?stats Stats, the
// stream Watch; ?size counts List where there is no Size.
//
// Values in a batch are as the listing shows them: a JSON codec's value
// as it is, any other codec's bytes as a base64 string; the whole batch
// is bounded by WithMaxBodyBytes. DELETE / needs If-Match: * because
// the stores keep no revision of their own that a Clear could be
// conditional on: "*" is the one precondition that can hold, and it
// makes a Clear deliberate; any other precondition is 412. Because the key is the unescaped path, "a%2Fb" and "a/b" are
// the same key. A key must be valid UTF-8: a request for one that is not
// ("/%FF") is answered 400 whatever its method, because the listing and
// the change stream are JSON, which would name every such key U+FFFD,
// leaving it unaddressable. Items under such keys that a writer other
// than the handler made (the Go API, a snapshot, another process) are
// left out of the listing and the change stream.
//
// Errors are plain text. What the client sent is answered 4xx: a body
// over the limit 413, a body the codec cannot decode 400 (nothing is
// written), a key over the limit, not valid UTF-8 or refused by the
// store 400, another
// method 405 with Allow, a malformed If-Match 412, a malformed
// If-None-Match 400, a malformed date in If-Modified-Since or
// If-Unmodified-Since is ignored. A store that is not running is 503, a
// full one 507; a write that loses the race for its key 100 times in a
// row is 503 with Retry-After.
//
// Preconditions are evaluated in the order of RFC 9110 §13.2.2 (If-Match,
// If-Unmodified-Since, If-None-Match, If-Modified-Since) against one item,
// and a write happens only at the revision they were evaluated at
// (CompareAndSet, CompareAndDelete), so a precondition that held is still
// true when the write lands.
//
// HTTP dates have one-second precision: two writes within one second share
// a Last-Modified, and only the ETag tells them apart. So If-Unmodified-Since
// holds only for an item whose LastModified, nanoseconds and all, is not
// after the instant the date names — in practice, one written before that
// second began. A client that sends back the Last-Modified it was given
// gets 412 even when nothing changed since: the date cannot prove that no
// other write landed in the same second. For exact lost-update protection
// send If-Match with the ETag you read (the item's Revision, unique to
// each write); keep If-Unmodified-Since for dates the client knows the
// item has not changed since. If-Modified-Since is compared at the
// second, as caches expect: at worst a cache keeps a version that was
// replaced within its second, and no write is lost.
//
// The change stream (GET / with Accept: text/event-stream) gives each
// event its change's own revision (store.Event.Revision) as its SSE id:
// every put, delete, expiry, eviction and clear has one, strictly
// increasing. A client that reconnects with Last-Event-ID resumes right
// after it, nothing lost and nothing twice, through the store's WatchFrom
// (the Resumer interface). When that is not possible — the store keeps a
// bounded history and the id is older than it, the id is ahead of the
// store (another store, or one replaced), the id is malformed, or the
// Backend cannot resume — the stream begins with an "event: reset" whose
// data says why (with "oldest", the oldest revision still kept, when the
// history was compacted): changes may have been missed, and the client
// should list the store again. The stream then goes on live. The
// response's Lastmod-Reset header says so before any event (compacted,
// future, malformed or unsupported; Lastmod-Oldest with the oldest
// revision for compacted), for a client that would rather stop than go
// on after a gap.
//
// A stream ends when the client goes away, when the request's context
// ends — a write under way, and the end of the response, then get at most
// a second more, so a server whose Shutdown cancels its requests'
// contexts (a BaseContext cancelled from RegisterOnShutdown, as lastmodd
// does) is not held up by a client that stopped reading, while one that
// reads sees the stream end cleanly — and when one event's write takes
// longer than WithStreamWriteTimeout. Its writes set their own deadlines
// (http.ResponseController), so a server's WriteTimeout does not end a
// stream that lives longer; on HTTP/1.x the response says Connection:
// close, so no later request on the connection inherits them.
//
// NewClient is the other side: a Client with the store's string-key
// method set over HTTP, mapping the handler's answers back to the
// store's errors, writing conditionally with the preconditions above,
// and resuming its change streams with Last-Event-ID after a dropped
// connection.
package lastmodhttp
