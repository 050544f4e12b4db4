package main

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// backend is a store lastmodd can serve, with what its probes and metrics
// need of it beyond lastmodhttp's method set: embedded, the in-process
// store, and etcdBackend (etcd.go), which counts its cluster's requests,
// errors and timeouts in collectors and asks its cluster in ready.
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
	// saves reports whether the backend can save snapshots (-snapshot),
	// so that the metrics have snapshot figures only where they mean
	// something.
	saves() bool
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

// changes marks where the store's changes are: the counters every write,
// delete, expiry and eviction moves, and the number of items, which a
// Clear (counted nowhere) drops to zero. Two equal marks have no change
// between them: only Clears could hide in them, and a Clear of an
// emptied store changes nothing. A Load does, uncounted, but lastmodd
// loads only at start.
func (e embedded) changes() (changeMark, bool) {
	st, err := e.s.Stats()
	if err != nil {
		return changeMark{}, false
	}
	return changeMark{counted: st.Writes + st.Deletes + st.Expirations + st.Evictions, items: st.Items}, true
}

// changeMark is a point in a store's history of changes; see changes.
type changeMark struct {
	counted uint64
	items   int
}

func (embedded) collectors() []prometheus.Collector { return nil }

func (embedded) saves() bool { return true }
