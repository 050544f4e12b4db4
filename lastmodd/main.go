package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the usage is printed, and asking for it is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lastmodd:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGINT or SIGTERM arrives, then stops in
// order: readiness, the drain delay, the HTTP servers, the snapshot, the
// store. It writes the addresses it listens on to stdout, the main one
// last, and its log to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(c.logFormat, stderr)
	// Everything a flag names is checked before anything starts.
	var toks *tokens
	if c.tokenFile != "" {
		if toks, err = readTokens(c.tokenFile); err != nil {
			return err
		}
	}
	tlsCfg, err := tlsConfig(c)
	if err != nil {
		return err
	}
	if c.snapshot != "" {
		if err := checkSnapshotDir(c.snapshot); err != nil {
			return err
		}
	}
	var etcdCreds etcdCredentials
	if len(c.etcd.endpoints) > 0 {
		if etcdCreds, err = readEtcdCredentials(c.etcd, os.Getenv); err != nil {
			return err
		}
	}

	// Signals are caught from the start, so one that arrives as soon as
	// the address is printed still stops lastmodd gracefully. One is
	// enough: a second, during the drain, is read after the first.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	log.Info("lastmodd starting", "config", c.logValue(toks))
	warnExposed(log, c, toks)
	began := time.Now()
	defer func() {
		if err != nil {
			log.Error("lastmodd exiting", "uptime", time.Since(began), "err", err, "config", c.logValue(toks))
			return
		}
		log.Info("lastmodd stopped", "uptime", time.Since(began), "config", c.logValue(toks))
	}()

	var (
		b    backend
		snap *snapshotter
	)
	if len(c.etcd.endpoints) > 0 {
		var e *etcdBackend
		if e, err = openEtcd(c, etcdCreds, log); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, e.close()) }()
		if readyErr := e.ready(); readyErr != nil {
			log.Warn("the etcd cluster does not answer yet: /readyz answers 503 until it does", "err", readyErr)
		}
		b = e
	} else {
		var s *store.Store[string, json.RawMessage]
		s, err = store.New[string, json.RawMessage](c.store,
			store.WithCodec[string, json.RawMessage](store.JSONCodec{}),
			store.WithHistory[string, json.RawMessage](c.history))
		if err != nil {
			return err
		}
		if err = s.Start(context.Background()); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, s.Shutdown()) }()
		emb := embedded{s: s}
		b = emb
		if c.snapshot != "" {
			snap = &snapshotter{path: c.snapshot, s: s, log: log, changes: emb.changes}
		}
	}
	m := newMetrics(b)
	if snap != nil {
		snap.m = m
		if err := snap.load(); err != nil {
			return err
		}
	}

	// Requests' contexts derive from streams, so cancelling it when the
	// shutdown begins ends the change streams, which would otherwise keep
	// Shutdown waiting for ever; a write blocked on a client that does not
	// read is cut off within a second of its context ending.
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	p := &probes{ready: b.ready}
	api := &http.Server{
		Handler:           mainHandler(c, b, m, p, toks, log),
		ReadHeaderTimeout: c.timeouts.readHeader,
		ReadTimeout:       c.timeouts.read,
		WriteTimeout:      c.timeouts.write,
		IdleTimeout:       c.timeouts.idle,
		BaseContext:       func(net.Listener) context.Context { return streams },
		TLSConfig:         tlsCfg,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	api.RegisterOnShutdown(endStreams)
	// The main server is listed first so that it stops first: the
	// metrics and profiles stay up while it drains.
	servers := []*server{{name: "listening on", addr: c.addr, srv: api, tls: tlsCfg}}
	if c.metricsAddr != "" {
		servers = append(servers, &server{name: "metrics on", addr: c.metricsAddr, srv: sideServer(c, m.handler(), log)})
	}
	if c.debugAddr != "" {
		// No write timeout: a CPU profile or trace runs as long as its
		// ?seconds= asks.
		dbg := sideServer(c, debugHandler(), log)
		dbg.WriteTimeout = 0
		servers = append(servers, &server{name: "debug on", addr: c.debugAddr, srv: dbg})
	}
	for _, sv := range servers {
		if sv.ln, err = net.Listen("tcp", sv.addr); err != nil {
			for _, opened := range servers {
				if opened.ln != nil {
					_ = opened.ln.Close()
				}
			}
			return fmt.Errorf("listen on %s: %w", sv.addr, err)
		}
	}
	// Sized to the number of servers, so no Serve's return ever blocks.
	served := make(chan error, len(servers))
	for _, sv := range servers {
		go func() { served <- sv.serve() }()
	}
	// The main address is printed last: once it is out, every listener
	// takes connections.
	for i := len(servers) - 1; i >= 0; i-- {
		sv := servers[i]
		log.Info("lastmodd "+sv.name, "url", sv.url())
		fmt.Fprintf(stdout, "lastmodd: %s %s\n", sv.name, sv.url())
	}

	snapCtx, stopSnapshots := context.WithCancel(context.Background())
	snapshotsDone := make(chan struct{})
	if snap != nil && c.snapshotEvery > 0 {
		go func() {
			defer close(snapshotsDone)
			snap.every(snapCtx, c.snapshotEvery)
		}()
	} else {
		close(snapshotsDone)
	}

	running := len(servers)
	select {
	case err = <-served:
		running--
		log.Error("a server failed; stopping", "err", err)
	case sig := <-sigs:
		log.Info("lastmodd stopping", "signal", sig.String(), "drain_delay", c.drainDelay)
	case <-ctx.Done():
		log.Info("lastmodd stopping", "cause", context.Cause(ctx).Error(), "drain_delay", c.drainDelay)
	}
	p.stopping.Store(true)
	if err == nil && c.drainDelay > 0 {
		drain := time.NewTimer(c.drainDelay)
		select {
		case <-drain.C:
		case sig := <-sigs:
			log.Info("drain cut short", "signal", sig.String())
		case <-ctx.Done():
		}
		drain.Stop()
	}

	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancelShutdown()
	for _, sv := range servers {
		if shutErr := sv.srv.Shutdown(shutdownCtx); shutErr != nil {
			// Requests still in flight after the timeout are cut off, so
			// none of them outlives the store.
			err = errors.Join(err, fmt.Errorf("stop %s: %w", sv.addr, shutErr), sv.srv.Close())
		}
	}
	for ; running > 0; running-- {
		if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
	}
	stopSnapshots()
	<-snapshotsDone
	if snap != nil {
		err = errors.Join(err, snap.save("stop"))
	}
	return err
}

// mainHandler is what -addr serves: the store under /kv/, the probes,
// and /metrics unless -metrics-addr serves it. With tokens every path but
// the probes needs one.
func mainHandler(c config, b backend, m *metrics, p *probes, toks *tokens, log *slog.Logger) http.Handler {
	opts := []lastmodhttp.Option{
		lastmodhttp.WithMaxBodyBytes(c.maxBody),
		lastmodhttp.WithMaxKeyBytes(c.maxKey),
		lastmodhttp.WithStreamWriteTimeout(c.timeouts.streamWrite),
	}
	if c.requirePrecond {
		opts = append(opts, lastmodhttp.WithRequirePrecondition())
	}
	var guarded http.Handler
	{
		mux := http.NewServeMux()
		mux.Handle("/kv/", http.StripPrefix("/kv", lastmodhttp.New(b.http(), opts...)))
		if c.metricsAddr == "" {
			mux.Handle("GET /metrics", m.handler())
		}
		guarded = mux
	}
	if toks != nil {
		guarded = requireToken(toks, c.maxBody, guarded)
	}
	mux := http.NewServeMux()
	mux.Handle("/healthz", getOnly(p.healthz))
	mux.Handle("/readyz", getOnly(p.readyz))
	mux.Handle("/", guarded)
	return observe(m, log, c.accessLog, mux)
}

// sideServer is a server for -metrics-addr or -debug-addr, with the
// main one's timeouts.
func sideServer(c config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.timeouts.readHeader,
		ReadTimeout:       c.timeouts.read,
		WriteTimeout:      c.timeouts.write,
		IdleTimeout:       c.timeouts.idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// server is one of lastmodd's listeners.
type server struct {
	name string // what the printed line says it is
	addr string
	srv  *http.Server
	ln   net.Listener
	tls  *tls.Config // nil: plain HTTP
}

func (sv *server) serve() error {
	if sv.tls != nil {
		// ServeTLS takes the certificates from srv.TLSConfig and offers
		// HTTP/2 besides HTTP/1.1.
		return sv.srv.ServeTLS(sv.ln, "", "")
	}
	return sv.srv.Serve(sv.ln)
}

func (sv *server) url() string {
	if sv.tls != nil {
		return "https://" + sv.ln.Addr().String()
	}
	return "http://" + sv.ln.Addr().String()
}

// newLogger logs to w in -log-format.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// warnExposed says at start what a served address other than loopback
// lacks, even where a flag allowed it.
func warnExposed(log *slog.Logger, c config, toks *tokens) {
	if loopback(c.addr) {
		return
	}
	if c.tlsCert == "" && toks != nil {
		log.Warn("tokens travel in clear text: add -tls-cert and -tls-key", "addr", c.addr)
	}
	if toks == nil && c.tlsClientCA == "" {
		log.Warn("anyone who reaches this address can read and write every item: add -token-file or -tls-client-ca", "addr", c.addr)
	}
}
