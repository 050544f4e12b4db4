package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// config is what the flags say.
type config struct {
	addr            string
	store           store.Config
	snapshot        string
	snapshotEvery   time.Duration
	maxBody         int64
	maxKey          int
	history         int
	requirePrecond  bool
	shutdownTimeout time.Duration
	drainDelay      time.Duration
	timeouts        timeouts

	logFormat string
	accessLog bool

	metricsAddr string
	debugAddr   string

	tlsCert, tlsKey, tlsClientCA string
	tokenFile                    string
	insecure                     bool

	etcd etcdConfig
}

// timeouts bound what one client can hold: the http.Server's timeouts, and
// each write to a change stream, which replaces WriteTimeout for streams.
type timeouts struct {
	readHeader  time.Duration
	read        time.Duration
	write       time.Duration
	idle        time.Duration
	streamWrite time.Duration
}

// parseFlags parses args into a config and checks what can be checked
// without touching the file system or the network; errors name the flag.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var (
		c         config
		eviction  string
		endpoints string
	)
	fs := flag.NewFlagSet("lastmodd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port); other than loopback only with -tls-cert or -token-file, or -insecure")
	fs.DurationVar(&c.store.TTL, "ttl", 0, "time-to-live of written items (0: never expire)")
	fs.IntVar(&c.store.MaxSize, "max-size", 0, "most items the store holds (0: unlimited); embedded store only")
	fs.StringVar(&eviction, "eviction", "reject", "what a full store does with a new key: reject or oldest; embedded store only")
	fs.DurationVar(&c.store.CleanupInterval, "cleanup-interval", 0, "how often expired items are swept away (0: never); embedded store only")
	fs.BoolVar(&c.store.LockFreeReads, "lock-free-reads", false, "serve GETs from the lock-free read index; embedded store only")
	fs.StringVar(&c.snapshot, "snapshot", "", "snapshot file loaded at start when it exists and saved at stop; embedded store only")
	fs.DurationVar(&c.snapshotEvery, "snapshot-every", 0, "also save the snapshot this often while serving (0: only at stop); a crash loses at most this much of the latest writes; embedded store only")
	fs.IntVar(&c.history, "history", 4096, "changes kept for change streams to resume from (Last-Event-ID); embedded store only")
	fs.Int64Var(&c.maxBody, "max-body", lastmodhttp.DefaultMaxBodyBytes, "largest PUT body in bytes")
	fs.IntVar(&c.maxKey, "max-key", lastmodhttp.DefaultMaxKeyBytes, "longest key in bytes")
	fs.BoolVar(&c.requirePrecond, "require-precondition", false, "refuse PUT and DELETE without a precondition (428)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a stop waits for requests in flight")
	fs.DurationVar(&c.drainDelay, "drain-delay", 0, "at a stop, how long /readyz answers 503 while everything else is still served, so load balancers drain this server first (a second signal ends it)")
	fs.DurationVar(&c.timeouts.readHeader, "read-header-timeout", 10*time.Second, "longest time to read a request's header")
	fs.DurationVar(&c.timeouts.read, "read-timeout", 30*time.Second, "longest time to read a whole request, body included")
	fs.DurationVar(&c.timeouts.write, "write-timeout", time.Minute, "longest time from a request's header to the end of its response (change streams excepted)")
	fs.DurationVar(&c.timeouts.idle, "idle-timeout", 2*time.Minute, "longest time a kept-alive connection waits for its next request")
	fs.DurationVar(&c.timeouts.streamWrite, "stream-write-timeout", lastmodhttp.DefaultStreamWriteTimeout, "longest time one change-stream event may take to write; a client slower than that is dropped")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.BoolVar(&c.accessLog, "access-log", false, "log every request (method, path, status, size, duration; never a body)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve /metrics on this address of its own, without TLS or tokens, instead of on -addr")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "serve net/http/pprof under /debug/pprof/ on this address (off when empty; loopback only, unless -insecure)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with; needs -tls-key")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of -tls-cert")
	fs.StringVar(&c.tlsClientCA, "tls-client-ca", "", "PEM CA certificates; a client must present a certificate one of them signed (needs -tls-cert)")
	fs.StringVar(&c.tokenFile, "token-file", "", `file of bearer tokens, one "TOKEN ROLE" a line, ROLE read or write; every request but the probes then needs one`)
	fs.BoolVar(&c.insecure, "insecure", false, "allow -addr or -debug-addr other than loopback without TLS or tokens")
	fs.StringVar(&endpoints, "etcd", "", "serve a store kept in this etcd cluster instead of the embedded one: its endpoints, host:port or URLs, comma-separated; any number of lastmodd replicas may share it")
	fs.StringVar(&c.etcd.prefix, "etcd-prefix", "lastmodd/", "with -etcd: the key prefix the items are kept under (replicas serving one store share it)")
	fs.DurationVar(&c.etcd.dialTimeout, "etcd-dial-timeout", 5*time.Second, "with -etcd: how long connecting to a member, and authenticating at start, may take")
	fs.DurationVar(&c.etcd.requestTimeout, "etcd-request-timeout", 5*time.Second, "with -etcd: how long one operation on the cluster may take before it fails")
	fs.StringVar(&c.etcd.caCert, "etcd-cacert", "", "with -etcd: PEM CA certificates to verify the members' certificates with (TLS)")
	fs.StringVar(&c.etcd.cert, "etcd-cert", "", "with -etcd: PEM client certificate to present to the members (TLS); needs -etcd-key")
	fs.StringVar(&c.etcd.key, "etcd-key", "", "with -etcd: PEM private key of -etcd-cert")
	fs.StringVar(&c.etcd.user, "etcd-user", "", "with -etcd: the etcd user to authenticate as; its password is read from -etcd-password-file or $"+etcdPasswordEnv)
	fs.StringVar(&c.etcd.passwordFile, "etcd-password-file", "", "with -etcd-user: file holding the user's password (one line)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch eviction {
	case "reject":
		c.store.Eviction = store.RejectWhenFull
	case "oldest":
		c.store.Eviction = store.EvictOldest
	default:
		return c, fmt.Errorf("-eviction %q: want reject or oldest", eviction)
	}
	if err := c.checkEtcd(fs, endpoints); err != nil {
		return c, err
	}
	if c.maxBody <= 0 || c.maxKey <= 0 || c.shutdownTimeout <= 0 {
		return c, errors.New("-max-body, -max-key and -shutdown-timeout must be positive")
	}
	if t := c.timeouts; t.readHeader <= 0 || t.read <= 0 || t.write <= 0 || t.idle <= 0 || t.streamWrite <= 0 {
		return c, errors.New("-read-header-timeout, -read-timeout, -write-timeout, -idle-timeout and -stream-write-timeout must be positive")
	}
	if c.history < 0 {
		return c, errors.New("-history must not be negative")
	}
	if c.drainDelay < 0 {
		return c, errors.New("-drain-delay must not be negative")
	}
	switch {
	case c.snapshotEvery < 0:
		return c, errors.New("-snapshot-every must not be negative")
	case c.snapshotEvery > 0 && c.snapshot == "":
		return c, errors.New("-snapshot-every needs -snapshot, the file to save to")
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("-log-format %q: want text or json", c.logFormat)
	}
	switch {
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return c, errors.New("-tls-cert and -tls-key go together: give both or neither")
	case c.tlsClientCA != "" && c.tlsCert == "":
		return c, errors.New("-tls-client-ca needs -tls-cert and -tls-key: client certificates are checked in the TLS handshake")
	}
	for _, a := range []struct{ flag, addr string }{{"-addr", c.addr}, {"-metrics-addr", c.metricsAddr}, {"-debug-addr", c.debugAddr}} {
		if a.addr == "" && a.flag != "-addr" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return c, fmt.Errorf("%s %q: %w", a.flag, a.addr, err)
		}
	}
	if !c.insecure && !loopback(c.addr) && c.tlsCert == "" && c.tokenFile == "" {
		return c, fmt.Errorf("-addr %s is not a loopback address: without -tls-cert or -token-file anyone who reaches it could read and write every item; give one of them (better both), or -insecure to serve it so anyway", c.addr)
	}
	if !c.insecure && c.debugAddr != "" && !loopback(c.debugAddr) {
		return c, fmt.Errorf("-debug-addr %s is not a loopback address: profiles are open to whoever reaches them (and cost CPU); use -insecure to serve them so anyway", c.debugAddr)
	}
	return c, nil
}

// etcdOnly are the flags that mean nothing without -etcd.
var etcdOnly = []string{"etcd-prefix", "etcd-dial-timeout", "etcd-request-timeout", "etcd-cacert", "etcd-cert", "etcd-key", "etcd-user", "etcd-password-file"}

// checkEtcd parses -etcd's endpoints into c and refuses what the chosen
// backend cannot honour, rather than serve something other than what was
// asked: the etcd flags without -etcd, and with it the embedded store's
// own flags, set to anything but what etcdstore does anyway.
func (c *config) checkEtcd(fs *flag.FlagSet, endpoints string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if endpoints == "" {
		if set["etcd"] {
			return errors.New("-etcd is empty: give the cluster's endpoints, host:port,…")
		}
		for _, name := range etcdOnly {
			if set[name] {
				return fmt.Errorf("-%s needs -etcd: without it lastmodd serves the embedded store", name)
			}
		}
		return nil
	}
	for _, ep := range strings.Split(endpoints, ",") {
		ep = strings.TrimSpace(ep)
		if ep == "" {
			return fmt.Errorf("-etcd %q: an empty endpoint", endpoints)
		}
		if err := checkEndpoint(ep); err != nil {
			return fmt.Errorf("-etcd %q: %w", endpoints, err)
		}
		c.etcd.endpoints = append(c.etcd.endpoints, ep)
	}
	refuse := func(flag, why string) error {
		return fmt.Errorf("-%s cannot be served with -etcd: %s", flag, why)
	}
	switch {
	case c.store.MaxSize != 0:
		return refuse("max-size", "a store over etcd has no size limit (every write would have to update one shared counter)")
	case c.store.Eviction != store.RejectWhenFull:
		return refuse("eviction", "a store over etcd has no size limit, so nothing is ever evicted")
	case c.store.CleanupInterval != 0:
		return refuse("cleanup-interval", "the cluster removes expired items itself, by lease")
	case c.store.LockFreeReads:
		return refuse("lock-free-reads", "every read asks the cluster, so that every replica answers the same")
	case set["snapshot"]:
		return refuse("snapshot", "the items live in the cluster, which keeps them across crashes: there is nothing to save")
	case set["snapshot-every"]:
		return refuse("snapshot-every", "the items live in the cluster, which keeps them across crashes: there is nothing to save")
	case set["history"]:
		return refuse("history", "change streams resume from the cluster's own history, every revision it has not compacted")
	}
	switch {
	case c.etcd.prefix == "":
		return errors.New("-etcd-prefix must not be empty: the store would take in every key of the cluster")
	case c.etcd.dialTimeout <= 0 || c.etcd.requestTimeout <= 0:
		return errors.New("-etcd-dial-timeout and -etcd-request-timeout must be positive")
	case (c.etcd.cert == "") != (c.etcd.key == ""):
		return errors.New("-etcd-cert and -etcd-key go together: give both or neither")
	case c.etcd.passwordFile != "" && c.etcd.user == "":
		return errors.New("-etcd-password-file needs -etcd-user, the user it is the password of")
	}
	return nil
}

// checkEndpoint accepts host:port, or an http, https, unix or unixs URL,
// as the etcd client does.
func checkEndpoint(ep string) error {
	if scheme, rest, ok := strings.Cut(ep, "://"); ok {
		switch scheme {
		case "http", "https":
			ep = rest
		case "unix", "unixs":
			return nil
		default:
			return fmt.Errorf("endpoint %q: scheme %q: want http, https, unix or unixs", ep, scheme)
		}
	}
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", ep, err)
	}
	if host == "" || port == "" {
		return fmt.Errorf("endpoint %q: want host:port", ep)
	}
	return nil
}

// loopback reports whether addr's host can only be reached from this
// machine. A name other than localhost could resolve anywhere, and an
// empty host means every interface, so neither is loopback.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSnapshotDir makes sure a snapshot can be written at path, by
// writing and removing a file beside it, so that a missing or read-only
// directory stops lastmodd at start rather than losing the first save.
func checkSnapshotDir(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("-snapshot %s is a directory, not a file", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("-snapshot %s: its directory: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("-snapshot %s: %s is not a directory", path, dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".probe-*")
	if err != nil {
		return fmt.Errorf("-snapshot %s: its directory cannot be written: %w", path, err)
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}

// logValue is the effective configuration as log attributes; it names
// files and counts tokens, never holds one.
func (c config) logValue(tokens *tokens) slog.Value {
	readers, writers := tokens.count()
	attrs := []slog.Attr{
		slog.String("addr", c.addr),
		slog.String("metrics_addr", c.metricsAddr),
		slog.String("debug_addr", c.debugAddr),
		slog.Bool("tls", c.tlsCert != ""),
		slog.Bool("client_certs", c.tlsClientCA != ""),
		slog.Int("read_tokens", readers),
		slog.Int("write_tokens", writers),
		slog.Bool("insecure", c.insecure),
		slog.Duration("ttl", c.store.TTL),
		slog.Int64("max_body", c.maxBody),
		slog.Int("max_key", c.maxKey),
		slog.Bool("require_precondition", c.requirePrecond),
		slog.Duration("shutdown_timeout", c.shutdownTimeout),
		slog.Duration("drain_delay", c.drainDelay),
		slog.Duration("read_header_timeout", c.timeouts.readHeader),
		slog.Duration("read_timeout", c.timeouts.read),
		slog.Duration("write_timeout", c.timeouts.write),
		slog.Duration("idle_timeout", c.timeouts.idle),
		slog.Duration("stream_write_timeout", c.timeouts.streamWrite),
		slog.Bool("access_log", c.accessLog),
	}
	if len(c.etcd.endpoints) > 0 {
		// What only the embedded store has would mean nothing here.
		return slog.GroupValue(append(attrs, slog.Any("etcd", c.etcd.logValue()))...)
	}
	return slog.GroupValue(append(attrs,
		slog.String("backend", "embedded"),
		slog.String("snapshot", c.snapshot),
		slog.Duration("snapshot_every", c.snapshotEvery),
		slog.Int("max_size", c.store.MaxSize),
		slog.String("eviction", c.store.Eviction.String()),
		slog.Duration("cleanup_interval", c.store.CleanupInterval),
		slog.Bool("lock_free_reads", c.store.LockFreeReads),
		slog.Int("history", c.history),
	)...)
}
