package main

import (
	"io"
	"net/http"
	"sync/atomic"
)

// probes answer a load balancer or an orchestrator: /healthz while the
// process serves at all, /readyz while it should be sent requests.
type probes struct {
	// stopping is set when a stop begins, before the server stops
	// taking connections, so that /readyz turns 503 while the replica
	// still serves what is already on its way.
	stopping atomic.Bool
	ready    func() error
}

func (p *probes) healthz(w http.ResponseWriter, _ *http.Request) {
	plain(w, http.StatusOK, "ok\n")
}

func (p *probes) readyz(w http.ResponseWriter, _ *http.Request) {
	if p.stopping.Load() {
		plain(w, http.StatusServiceUnavailable, "stopping\n")
		return
	}
	if err := p.ready(); err != nil {
		plain(w, http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
		return
	}
	plain(w, http.StatusOK, "ready\n")
}

// plain writes a short text answer no cache keeps: a probe's answer is
// of its instant.
func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// getOnly answers any method but GET and HEAD with 405. A "GET /readyz"
// pattern would not: another method falls through to "/", the store.
func getOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			plain(w, http.StatusMethodNotAllowed, "method not allowed\n")
			return
		}
		h(w, r)
	})
}
