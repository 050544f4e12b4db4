package main

import (
	"net/http"
	"net/http/pprof"
)

// debugHandler serves net/http/pprof's profiles under /debug/pprof/, on
// a listener of its own (-debug-addr): they show the program's insides
// and a CPU profile costs CPU, so they are never on the main address.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // and every named profile under it
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
