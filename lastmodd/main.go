package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
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
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lastmodd:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	addr            string
	store           store.Config
	snapshot        string
	maxBody         int64
	maxKey          int
	history         int
	requirePrecond  bool
	shutdownTimeout time.Duration
	timeouts        timeouts
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

// parseFlags parses args into a config; errors name the flag.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var (
		c        config
		eviction string
	)
	fs := flag.NewFlagSet("lastmodd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	fs.DurationVar(&c.store.TTL, "ttl", 0, "time-to-live of written items (0: never expire)")
	fs.IntVar(&c.store.MaxSize, "max-size", 0, "most items the store holds (0: unlimited)")
	fs.StringVar(&eviction, "eviction", "reject", "what a full store does with a new key: reject or oldest")
	fs.DurationVar(&c.store.CleanupInterval, "cleanup-interval", 0, "how often expired items are swept away (0: never)")
	fs.BoolVar(&c.store.LockFreeReads, "lock-free-reads", false, "serve GETs from the lock-free read index")
	fs.StringVar(&c.snapshot, "snapshot", "", "snapshot file loaded at start when it exists and saved at stop")
	fs.IntVar(&c.history, "history", 4096, "changes kept for change streams to resume from (Last-Event-ID)")
	fs.Int64Var(&c.maxBody, "max-body", lastmodhttp.DefaultMaxBodyBytes, "largest PUT body in bytes")
	fs.IntVar(&c.maxKey, "max-key", lastmodhttp.DefaultMaxKeyBytes, "longest key in bytes")
	fs.BoolVar(&c.requirePrecond, "require-precondition", false, "refuse PUT and DELETE without a precondition (428)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a stop waits for requests in flight")
	fs.DurationVar(&c.timeouts.readHeader, "read-header-timeout", 10*time.Second, "longest time to read a request's header")
	fs.DurationVar(&c.timeouts.read, "read-timeout", 30*time.Second, "longest time to read a whole request, body included")
	fs.DurationVar(&c.timeouts.write, "write-timeout", time.Minute, "longest time from a request's header to the end of its response (change streams excepted)")
	fs.DurationVar(&c.timeouts.idle, "idle-timeout", 2*time.Minute, "longest time a kept-alive connection waits for its next request")
	fs.DurationVar(&c.timeouts.streamWrite, "stream-write-timeout", lastmodhttp.DefaultStreamWriteTimeout, "longest time one change-stream event may take to write; a client slower than that is dropped")
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
	if c.maxBody <= 0 || c.maxKey <= 0 || c.shutdownTimeout <= 0 {
		return c, errors.New("-max-body, -max-key and -shutdown-timeout must be positive")
	}
	if t := c.timeouts; t.readHeader <= 0 || t.read <= 0 || t.write <= 0 || t.idle <= 0 || t.streamWrite <= 0 {
		return c, errors.New("-read-header-timeout, -read-timeout, -write-timeout, -idle-timeout and -stream-write-timeout must be positive")
	}
	if c.history < 0 {
		return c, errors.New("-history must not be negative")
	}
	return c, nil
}

// run serves until ctx ends or SIGINT or SIGTERM arrives, then stops in
// order: HTTP server, snapshot, store. It writes the listening address to
// stdout and flag errors to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	// Signals are caught from the start, so one that arrives as soon as
	// the address is printed still stops lastmodd gracefully.
	stop, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	s, err := store.New[string, json.RawMessage](c.store,
		store.WithCodec[string, json.RawMessage](store.JSONCodec{}),
		store.WithHistory[string, json.RawMessage](c.history))
	if err != nil {
		return err
	}
	if err := s.Start(context.Background()); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Shutdown()) }()
	if c.snapshot != "" {
		if err := s.LoadFile(c.snapshot); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("load %s: %w", c.snapshot, err)
		}
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	// Requests' contexts derive from streams, so cancelling it when the
	// shutdown begins ends the change streams, which would otherwise keep
	// Shutdown waiting for ever; a write blocked on a client that does not
	// read is cut off within a second of its context ending.
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	opts := []lastmodhttp.Option{
		lastmodhttp.WithMaxBodyBytes(c.maxBody),
		lastmodhttp.WithMaxKeyBytes(c.maxKey),
		lastmodhttp.WithStreamWriteTimeout(c.timeouts.streamWrite),
	}
	if c.requirePrecond {
		opts = append(opts, lastmodhttp.WithRequirePrecondition())
	}
	mux := http.NewServeMux()
	mux.Handle("/kv/", http.StripPrefix("/kv", lastmodhttp.New[json.RawMessage](s, opts...)))
	// A change stream sets a deadline per write, which replaces
	// WriteTimeout for it, so the timeouts bound every client without
	// ending the streams that outlive them.
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: c.timeouts.readHeader,
		ReadTimeout:       c.timeouts.read,
		WriteTimeout:      c.timeouts.write,
		IdleTimeout:       c.timeouts.idle,
		BaseContext:       func(net.Listener) context.Context { return streams },
	}
	srv.RegisterOnShutdown(endStreams)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "lastmodd: listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		return err
	case <-stop.Done():
	}
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancelShutdown()
	if err = srv.Shutdown(shutdownCtx); err != nil {
		// Requests still in flight after the timeout are cut off, so
		// none of them outlives the store.
		err = errors.Join(err, srv.Close())
	}
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if c.snapshot != "" {
		if saveErr := s.SaveFile(c.snapshot); saveErr != nil {
			err = errors.Join(err, fmt.Errorf("save %s: %w", c.snapshot, saveErr))
		}
	}
	return err
}
