package main

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// backend is a store lastmodd can serve, with what its probes and metrics
// need of it beyond lastmodhttp's method set. The embedded store is the
// only one yet; one over etcd would count its request errors and
// timeouts in collectors, and ask its cluster in ready.
type backend interface {
	// http is what lastmodhttp serves; the handler finds the optional
	// methods (Watch, WatchFrom, ModifiedSince) on the value itself.
	http() lastmodhttp.Backend[json.RawMessage]
	// ready returns nil while the backend answers requests.
	ready() error
	// stats returns the store's figures, read at each scrape.
	stats() (store.Stats, error)
	// collectors are the backend's own metrics.
	collectors() []prometheus.Collector
}

// embedded is the in-process store, saved to a snapshot file when asked.
type embedded struct {
	s *store.Store[string, json.RawMessage]
}

func (e embedded) http() lastmodhttp.Backend[json.RawMessage] { return e.s }

// ready asks the owner for its Stats, so a store that is running but
// whose owner does not answer is not ready either.
func (e embedded) ready() error {
	_, err := e.s.Stats()
	return err
}

func (e embedded) stats() (store.Stats, error) { return e.s.Stats() }

// changes sums the counters every change through lastmodd moves: it
// never clears the store, and loads only at start, which these do not
// count.
func (e embedded) changes() (uint64, bool) {
	st, err := e.s.Stats()
	if err != nil {
		return 0, false
	}
	return st.Writes + st.Deletes + st.Expirations + st.Evictions, true
}

func (embedded) collectors() []prometheus.Collector { return nil }
