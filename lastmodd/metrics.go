package main

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lastmodstore/lastmodstore/store"
)

// metrics are lastmodd's figures, in a registry of its own rather than
// the global one, so nothing another package registers leaks into them
// and each run (a test runs several) starts from zero.
type metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec   // method, route, code
	latency  *prometheus.HistogramVec // method, route
	inFlight prometheus.Gauge
	streams  prometheus.Gauge

	snapshots       *prometheus.CounterVec // result: written, failed, unchanged
	snapshotSeconds prometheus.Histogram
	snapshotBytes   prometheus.Gauge
	snapshotLast    prometheus.Gauge
}

// newMetrics registers the HTTP figures, the snapshot figures of a
// backend that saves snapshots, the Go runtime's
// and the process's, the store's Stats read at each scrape, and whatever
// the backend counts of its own.
func newMetrics(b backend) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lastmodd_http_requests_total",
			Help: "HTTP requests answered, by method, route and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lastmodd_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by method and route (a change stream's is its whole life).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10), // 100 µs to 26 s
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lastmodd_http_requests_in_flight",
			Help: "HTTP requests being answered now, open change streams included.",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lastmodd_change_streams_open",
			Help: "Change streams (GET /kv/ with Accept: text/event-stream) open now.",
		}),
		snapshots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lastmodd_snapshots_total",
			Help: "Snapshots saved to the -snapshot file, by result: written, failed, or unchanged (a periodic one skipped: nothing changed since the last written).",
		}, []string{"result"}),
		snapshotSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lastmodd_snapshot_duration_seconds",
			Help:    "Time one snapshot took to write, sync and rename into place.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1 ms to 66 s
		}),
		snapshotBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lastmodd_snapshot_size_bytes",
			Help: "Size of the last snapshot written.",
		}),
		snapshotLast: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lastmodd_snapshot_last_success_timestamp_seconds",
			Help: "When the last snapshot written (or skipped as unchanged) began, in seconds since the Unix epoch: every write acknowledged before it is in the file.",
		}),
	}
	// Both results exist from the start, so a rate over them is defined
	// before the first failure.
	m.snapshots.WithLabelValues("written")
	m.snapshots.WithLabelValues("failed")
	m.snapshots.WithLabelValues("unchanged")
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.inFlight, m.streams,
		newStatsCollector(b.stats),
	)
	if b.saves() {
		m.reg.MustRegister(m.snapshots, m.snapshotSeconds, m.snapshotBytes, m.snapshotLast)
	}
	m.reg.MustRegister(b.collectors()...)
	return m
}

// handler serves the registry in the exposition format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observe counts a finished request.
func (m *metrics) observe(method, route string, code int, seconds float64) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(method, route).Observe(seconds)
}

// routeOf names the route of a request for a label: a pattern, never the
// key, so that the number of series stays bounded.
func routeOf(r *http.Request, stream bool) string {
	switch p := r.URL.Path; {
	case p == "/healthz", p == "/readyz", p == "/metrics":
		return p
	case p == "/kv/" && stream:
		return "/kv/ (stream)"
	case p == "/kv/":
		return "/kv/"
	case strings.HasPrefix(p, "/kv/"):
		return "/kv/{key}"
	}
	return "other"
}

// methodOf is the request's method for a label, any but the usual ones
// counted as OTHER, which a client cannot make grow.
func methodOf(r *http.Request) string {
	switch m := r.Method; m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPost, http.MethodPatch, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// statsCollector reads the store's Stats once per scrape, so the figures
// are of that instant and cost nothing between scrapes.
type statsCollector struct {
	stats func() (store.Stats, error)
	up    *prometheus.Desc
	each  []statMetric
}

// statMetric is one field of store.Stats as a metric.
type statMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(store.Stats) float64
}

func newStatsCollector(stats func() (store.Stats, error)) *statsCollector {
	counter := func(name, help string, v func(store.Stats) uint64) statMetric {
		return statMetric{
			desc:  prometheus.NewDesc("lastmodd_store_"+name+"_total", help, nil, nil),
			kind:  prometheus.CounterValue,
			value: func(st store.Stats) float64 { return float64(v(st)) },
		}
	}
	gauge := func(name, help string, v func(store.Stats) int) statMetric {
		return statMetric{
			desc:  prometheus.NewDesc("lastmodd_store_"+name, help, nil, nil),
			kind:  prometheus.GaugeValue,
			value: func(st store.Stats) float64 { return float64(v(st)) },
		}
	}
	return &statsCollector{
		stats: stats,
		up:    prometheus.NewDesc("lastmodd_store_up", "1 when the store answered this scrape's Stats, 0 when it did not (not running); the store's other figures are then absent.", nil, nil),
		each: []statMetric{
			gauge("items", "Items held, expired ones not yet swept included.", func(st store.Stats) int { return st.Items }),
			counter("hits", "Lookups (Get, GetMany) that found a live item.", func(st store.Stats) uint64 { return st.Hits }),
			counter("misses", "Lookups that found none.", func(st store.Stats) uint64 { return st.Misses }),
			counter("writes", "Items written.", func(st store.Stats) uint64 { return st.Writes }),
			counter("deletes", "Items deleted (a clear is not counted).", func(st store.Stats) uint64 { return st.Deletes }),
			counter("expirations", "Items removed because they expired.", func(st store.Stats) uint64 { return st.Expirations }),
			counter("evictions", "Items removed to make room (-eviction oldest).", func(st store.Stats) uint64 { return st.Evictions }),
			counter("loads", "Loads on a miss that the store ran.", func(st store.Stats) uint64 { return st.Loads }),
			counter("load_errors", "Loads that failed or panicked.", func(st store.Stats) uint64 { return st.LoadErrors }),
			counter("restarts", "Store actors restarted after a panic, and eviction callbacks that panicked.", func(st store.Stats) uint64 { return st.Restarts }),
			counter("dropped_notices", "Eviction notices dropped because too many were waiting.", func(st store.Stats) uint64 { return st.Dropped }),
			gauge("pending_notices", "Eviction notices waiting for a callback.", func(st store.Stats) int { return st.Pending }),
			gauge("waiting_callers", "Callers waiting for a load under way.", func(st store.Stats) int { return st.Waiting }),
			gauge("watchers", "Open watches of the store (each change stream holds one).", func(st store.Stats) int { return st.Watchers }),
			gauge("mailbox_requests", "Requests waiting in the store owner's mailbox.", func(st store.Stats) int { return st.Mailbox }),
			gauge("revision", "The revision of the store's latest change (an ETag's number).", func(st store.Stats) int { return int(st.Revision) }),
			gauge("oldest_revision", "The oldest revision a change stream resumes from (Last-Event-ID); revision minus it is how far a client may fall behind. 0 when the backend cannot tell.", func(st store.Stats) int { return int(st.OldestRevision) }),
		},
	}
}

// Describe sends every description, up included.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	for _, m := range c.each {
		ch <- m.desc
	}
}

// Collect reads Stats once and sends each figure of it.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.stats()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, m := range c.each {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(st))
	}
}
