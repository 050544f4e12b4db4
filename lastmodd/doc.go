// Command lastmodd serves a lastmodstore store over HTTP with conditional
// requests (package lastmodhttp), holding JSON values.
//
// Usage:
//
//	lastmodd [-addr 127.0.0.1:8080] [-ttl 0] [-max-size 0] [-eviction reject|oldest]
//	         [-cleanup-interval 0] [-lock-free-reads] [-snapshot FILE]
//	         [-history 4096] [-max-body 1048576] [-max-key 1024]
//	         [-require-precondition] [-shutdown-timeout 10s]
//	         [-read-header-timeout 10s] [-read-timeout 30s] [-write-timeout 1m]
//	         [-idle-timeout 2m] [-stream-write-timeout 10s]
//
// The store is served under /kv/: GET /kv/{key}, PUT /kv/{key}, DELETE
// /kv/{key}, GET /kv/ for the listing or, with Accept: text/event-stream,
// the change stream. It prints the address it listens on ("lastmodd:
// listening on http://127.0.0.1:8080"), the real one when -addr asks for
// port 0.
//
// A change stream client that reconnects with Last-Event-ID resumes after
// it from the latest -history changes the store keeps.
//
// The timeouts bound what one client can hold: a request must send its
// header within -read-header-timeout and all of it, body included, within
// -read-timeout (a body that trickles in is cut off there); a response must
// be written within -write-timeout of the request's header; a kept-alive
// connection is closed after -idle-timeout without a request. A change
// stream is exempt from -write-timeout and lives as long as its client
// wants, but each event must be taken within -stream-write-timeout, or the
// stream ends.
//
// With -snapshot, the store is loaded from FILE at start when it exists
// and saved to it at stop (JSON codec). SIGINT or SIGTERM stop it: the
// HTTP server shuts down gracefully (change streams end first, a write to
// a client that does not read cut off within a second, or
// -stream-write-timeout if shorter, so they do not hold it up), the
// snapshot is saved, then the store stops. lastmodd exits 0 when the
// server stopped within -shutdown-timeout and the save and the store's stop
// succeeded, 1 otherwise.
package main
