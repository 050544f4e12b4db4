// Command lastmodd serves a lastmodstore store over HTTP with conditional
// requests (package lastmodhttp), holding JSON values, with what operators
// expect of a service: metrics, probes, logs, TLS, tokens and profiles.
//
// It is a module of its own (go -C lastmodd run .), so that its
// dependencies, Prometheus's client above all, never reach the library's.
//
// Usage:
//
//	lastmodd [-addr 127.0.0.1:8080] [-ttl 0] [-max-size 0] [-eviction reject|oldest]
//	         [-cleanup-interval 0] [-lock-free-reads] [-history 4096]
//	         [-snapshot FILE [-snapshot-every 0]]
//	         [-max-body 1048576] [-max-key 1024] [-require-precondition]
//	         [-shutdown-timeout 10s] [-drain-delay 0]
//	         [-read-header-timeout 10s] [-read-timeout 30s] [-write-timeout 1m]
//	         [-idle-timeout 2m] [-stream-write-timeout 10s]
//	         [-log-format text|json] [-access-log]
//	         [-metrics-addr ADDR] [-debug-addr ADDR]
//	         [-tls-cert FILE -tls-key FILE [-tls-client-ca FILE]]
//	         [-token-file FILE] [-insecure]
//	         [-etcd HOST:PORT,… [-etcd-prefix lastmodd/] [-etcd-dial-timeout 5s]
//	          [-etcd-request-timeout 5s] [-etcd-cacert FILE]
//	          [-etcd-cert FILE -etcd-key FILE]
//	          [-etcd-user NAME [-etcd-password-file FILE]]]
//
// # Endpoints
//
// On -addr:
//
//	/kv/{key}   GET, HEAD, PUT, DELETE an item (package lastmodhttp)
//	/kv/        GET the listing or, with Accept: text/event-stream, the
//	            change stream; a client that reconnects with
//	            Last-Event-ID resumes after it from the latest -history
//	            changes the store keeps; POST a batch ({"get": […]} or
//	            {"set": {…}}); DELETE with If-Match: * clears the store;
//	            GET ?size and ?stats
//	/healthz    200 "ok" while the process serves
//	/readyz     200 "ready" while the store runs and answers (with -etcd:
//	            while the cluster answers a linearizable read within
//	            2 s, or -etcd-request-timeout if shorter); 503 once a
//	            stop has begun, or when the store does not answer
//	/metrics    Prometheus's text exposition format, unless -metrics-addr
//
// On -metrics-addr, when given: /metrics alone, without TLS or tokens
// (the figures hold no key or value), so a scraper needs neither. On
// -debug-addr, when given: net/http/pprof's profiles under /debug/pprof/.
//
// lastmodd prints each address it listens on to stdout, the main one
// last ("lastmodd: listening on http://127.0.0.1:8080"), the real port
// when an address asks for port 0; "metrics on" and "debug on" name the
// others.
//
// # Replicas over etcd
//
// By default lastmodd serves a store in its own process (package store).
// With -etcd it serves one kept in an etcd cluster instead (module
// etcdstore), under -etcd-prefix, so any number of lastmodd replicas
// over one cluster serve the same items: an ETag is the cluster's
// revision of the item, the same on every replica, so a conditional
// request is exact whichever replica it reaches, and a change stream
// resumes with Last-Event-ID on any replica, from the cluster's own
// history (what it has not compacted). -etcd takes host:port endpoints,
// or http:// and https:// URLs, comma-separated.
//
// -etcd-cacert verifies the members' certificates, -etcd-cert and
// -etcd-key present a client certificate, and -etcd-user authenticates
// as that user, its password read from -etcd-password-file or, failing
// that, $LASTMODD_ETCD_PASSWORD (never from the command line, which ps
// shows). With -etcd-user lastmodd authenticates at start and exits 1 if
// that fails within -etcd-dial-timeout; without, it starts even while the
// cluster is down, logs a warning, and /readyz answers 503 until the
// cluster answers. Each operation on the cluster fails after
// -etcd-request-timeout: 503, Lastmod-Error unavailable, Retry-After 1.
//
// lastmodd refuses at start, exiting 1, what it could not honour over
// etcd rather than serve something else: -max-size other than 0 and
// -eviction oldest (a store over etcd has no size limit), -cleanup-interval
// (the cluster expires items by lease), -lock-free-reads, -snapshot and
// -snapshot-every (the cluster keeps the items across crashes), and
// -history (the cluster's history serves resumption); and the -etcd-…
// flags without -etcd. -ttl is honoured.
//
// # Metrics
//
// lastmodd_http_requests_total{method,route,code},
// lastmodd_http_request_duration_seconds{method,route} (a histogram),
// lastmodd_http_requests_in_flight and lastmodd_change_streams_open; the
// route is a pattern (/kv/{key}, /kv/, "/kv/ (stream)", /healthz,
// /readyz, /metrics, other), never a key. The store's Stats, read at each
// scrape: lastmodd_store_up (0 when the store does not answer, and then
// nothing else of it), lastmodd_store_items, _watchers,
// _mailbox_requests, _pending_notices, _waiting_callers, _revision and
// _oldest_revision (the history a change stream resumes from lies
// between the two), and the counters
// lastmodd_store_{hits,misses,writes,deletes,expirations,evictions,loads,load_errors,restarts,dropped_notices}_total.
// Snapshots (not with -etcd, where nothing is saved): lastmodd_snapshots_total{result="written"|"failed"|"unchanged"},
// lastmodd_snapshot_duration_seconds, lastmodd_snapshot_size_bytes and
// lastmodd_snapshot_last_success_timestamp_seconds (when the last
// snapshot written, or skipped as unchanged, began: every write
// acknowledged before it is in the file). The Go runtime's go_* and the process's process_* figures too.
// With -etcd: lastmodd_etcd_requests_total{method} (each attempt of the
// etcd client, by gRPC method: KV/Range, KV/Txn, Watch/Watch, …),
// lastmodd_etcd_request_errors_total{method,code} (by gRPC status code)
// and lastmodd_etcd_request_timeouts_total{method}; the store's Stats
// are then etcdstore's (items counted by the cluster, hits, misses,
// writes and deletes of this replica).
//
// # Logs
//
// lastmodd logs to stderr with log/slog, as text or with -log-format json
// as JSON: its start and its stop with the effective configuration (the
// token file's tokens counted, never shown), every snapshot loaded,
// written, failed or refused, every 5xx answer (but /readyz's 503, which
// is no error), and with -access-log every request (method, route, path,
// status, bytes, duration, remote address).
// No value's body is ever logged; keys are, as paths. In JSON, durations
// are in nanoseconds, as log/slog writes them.
//
// # Snapshots and crashes
//
// With -snapshot, the store is loaded from FILE at start when it exists
// and saved to it at stop, and with -snapshot-every D every D as well,
// in a goroutine of its own, off the request path (JSON codec); a
// periodic save finds whether anything changed since the last one written
// (the store's counters of writes, deletes, expirations and evictions) and
// is skipped if not, so an idle store is not rewritten. A save
// writes a new file beside FILE, syncs it and renames it over FILE, so
// FILE is always a whole snapshot, even after a crash during a save. A
// crash (SIGKILL, power loss) therefore loses at most the writes of the
// last D, plus the time one save takes (without -snapshot-every, every
// write since the start); for none, keep the data in etcd (module
// etcdstore). A FILE that fails its
// checks at start (store.ErrCorruptSnapshot) stops lastmodd with an error
// before it serves, and is never overwritten; a missing or unwritable
// directory for FILE stops it at start too, not at the first save.
//
// # Who may read and write
//
// lastmodd listens on 127.0.0.1 by default. It refuses an -addr other
// than loopback (localhost, 127.0.0.0/8, ::1) unless it has -tls-cert or
// -token-file, or -insecure says to serve so anyway; it logs a warning
// when such an address has tokens without TLS, or neither tokens nor
// client certificates. The same holds for -debug-addr, which has neither.
//
// -tls-cert and -tls-key (PEM) serve HTTPS, HTTP/2 included, TLS 1.2 at
// least; with -tls-client-ca (PEM CA certificates) a client must present
// a certificate one of them signed, or the handshake fails.
//
// -token-file names a file of bearer tokens, one "TOKEN ROLE" a line,
// ROLE read or write; blank lines and lines starting with # are skipped.
// A token has at least 16 characters and no space, and appears once.
// With it, every request but /healthz and /readyz needs an
// "Authorization: Bearer TOKEN" header: without a valid one lastmodd
// answers 401 (with WWW-Authenticate), and for a read token on anything
// but GET, HEAD, OPTIONS and a batch read (POST /kv/ {"get": […]}, whose
// body lastmodd reads, up to -max-body, to tell it from a write) 403. Tokens are compared in constant time
// (crypto/subtle, over their SHA-256 sums, so not even their length
// shows). The file is read once, at start.
//
// # Stopping
//
// SIGINT or SIGTERM stop lastmodd: /readyz turns 503 at once, and for
// -drain-delay everything else is still served, so a load balancer that
// polls /readyz sends no new requests before lastmodd goes (a second
// signal ends the drain early). Then the HTTP servers shut down
// gracefully (change streams end first, a write to a client that does not
// read cut off within a second, or -stream-write-timeout if shorter, so
// they do not hold it up), the snapshot is saved, and the store stops.
// lastmodd exits 0 when the servers stopped within -shutdown-timeout and
// the save and the store's stop succeeded, 1 otherwise.
//
// # Timeouts
//
// The timeouts bound what one client can hold: a request must send its
// header within -read-header-timeout and all of it, body included, within
// -read-timeout (a body that trickles in is cut off there); a response must
// be written within -write-timeout of the request's header; a kept-alive
// connection is closed after -idle-timeout without a request. A change
// stream is exempt from -write-timeout and lives as long as its client
// wants, but each event must be taken within -stream-write-timeout, or the
// stream ends. -max-body and -max-key bound a PUT's body and a key, and
// -require-precondition refuses a PUT or DELETE without If-Match,
// If-None-Match or If-Unmodified-Since (428).
//
// # The store
//
// -ttl, -max-size, -eviction, -cleanup-interval and -lock-free-reads set
// the store's Config (package store): items' time-to-live, the most items
// it holds, what a full store does with a new key (reject: 507; oldest:
// evict the least recently modified), how often expired items are swept,
// and Get from the lock-free read index.
//
// # Profiling
//
// -debug-addr serves net/http/pprof's profiles on a listener of its own,
// off by default and loopback only unless -insecure: go tool pprof
// http://127.0.0.1:6060/debug/pprof/profile?seconds=10.
package main
