// Package overhttp runs storetest's conformance specs through
// lastmodhttp: every store the specs open is served by lastmodhttp's
// handler and driven through lastmodhttp's Client, so a spec that passes
// shows that the two together keep the store's semantics.
package overhttp

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
	"github.com/lastmodstore/lastmodstore/storetest"
)

// Lacks are the features no store has through HTTP, each with why.
var Lacks = map[storetest.Feature]string{
	storetest.ExactLookups: "the handler reads an item before most writes (a PUT without a TTL, a conditional DELETE) " +
		"and the Client's Update reads it over HTTP first: Hits and Misses count those reads too",
	storetest.UpdateReentry: "Update's function runs in the Client, between its requests: " +
		"a call into the store from inside it is an ordinary call, which works",
	storetest.UpdateGoexit: "Update's function runs on the caller's goroutine, which its runtime.Goexit ends",
}

// IgnoreGoroutines are net/http's own goroutines of the connections
// between the Clients and the server, which live on their own time: a
// connection kept alive, a request still on its way while the spec
// checks. The Client's and the handler's goroutines are not among them.
var IgnoreGoroutines = []goleak.Option{
	goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
	goleak.IgnoreAnyFunction("net/http.(*connReader).backgroundRead"),
	goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	goleak.IgnoreAnyFunction("net/http.(*Transport).dialConnFor"),
}

// Front is the one HTTP server that serves every store the specs open,
// each under a path of its own. Start it in BeforeSuite, so its
// goroutines are there before any spec's leak check takes its baseline,
// and Close it in AfterSuite.
type Front struct {
	srv *httptest.Server

	mu       sync.Mutex
	handlers map[string]http.Handler // by their first path segment
}

// NewFront returns a Front that is not serving yet.
func NewFront() *Front { return &Front{handlers: map[string]http.Handler{}} }

// Start starts serving.
func (f *Front) Start() { f.srv = httptest.NewServer(f) }

// Close stops serving; it waits for every request's handler to return.
func (f *Front) Close() {
	if f.srv != nil {
		f.srv.Close()
	}
}

// ServeHTTP hands a request to the handler of its first path segment.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	f.mu.Lock()
	h, ok := f.handlers[first]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.ServeHTTP(w, r)
}

// mount serves h under a new path and returns its URL.
func (f *Front) mount(h http.Handler) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := fmt.Sprintf("s%d", len(f.handlers)+1)
	f.handlers[name] = http.StripPrefix("/"+name, h)
	return f.srv.URL + "/" + name + "/"
}

// Implementation is inner's stores, each served by lastmodhttp.New on f
// and driven through a lastmodhttp.Client: the specs' calls go through
// the Client, their Start and Shutdown to the store itself (the server's
// side: a Client has no lifecycle of its own, and reports a stopped store
// as store.ErrNotRunning). It lacks what inner lacks and Lacks. Its Nil
// is a store whose Client is a nil *Client.
func (f *Front) Implementation(inner storetest.Implementation) storetest.Implementation {
	lacks := maps.Clone(Lacks)
	maps.Copy(lacks, inner.Lacks)
	return storetest.Implementation{
		New: func(cfg store.Config, opts ...store.Option[string, int]) (storetest.Store[int], error) {
			s, err := inner.New(cfg, opts...)
			if err != nil {
				return nil, err
			}
			// A transport of its own, whose idle connections Shutdown
			// closes: the specs' leak checks then find none of them.
			hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
			c, err := lastmodhttp.NewClient[int](f.mount(lastmodhttp.New[int](s)), lastmodhttp.WithHTTPClient(hc))
			if err != nil {
				return nil, err
			}
			return &Remote{Client: c, backend: s, hc: hc}, nil
		},
		Nil:              &Remote{},
		Lacks:            lacks,
		Slow:             true,
		IgnoreGoroutines: append(append([]goleak.Option(nil), inner.IgnoreGoroutines...), IgnoreGoroutines...),
	}
}

// Remote is a store the specs reach through a Client, and start and stop
// on the server's side.
type Remote struct {
	*lastmodhttp.Client[int]
	backend storetest.Store[int]
	hc      *http.Client
}

// Start starts the store behind the handler.
func (r *Remote) Start(ctx context.Context) error {
	if r.backend == nil {
		return store.ErrNotRunning
	}
	return r.backend.Start(ctx)
}

// Shutdown stops the store behind the handler, and closes the Client's
// idle connections.
func (r *Remote) Shutdown() error {
	if r.backend == nil {
		return nil
	}
	err := r.backend.Shutdown()
	r.hc.CloseIdleConnections()
	return err
}

// IsRunning reports whether the store behind the handler is running.
func (r *Remote) IsRunning() bool { return r.backend != nil && r.backend.IsRunning() }

// Err is the Err of the store behind the handler.
func (r *Remote) Err() error {
	if r.backend == nil {
		return nil
	}
	return r.backend.Err()
}
