package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// floor is the least a server of conditional requests can do: a map
// behind one mutex, an ETag per item from a counter, If-None-Match and
// If-Match compared as strings. No TTLs, no streams, no metrics, no
// limits but a body's: what lastmodd costs beyond it is its own.
type floor struct {
	mu    sync.Mutex
	items map[string]floorItem
	rev   uint64
}

type floorItem struct {
	value []byte
	etag  string
}

// serveFloor serves a floor at addr until killed, printing its address.
func serveFloor(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("floor: listening on http://%s\n", ln.Addr())
	f := &floor{items: map[string]floorItem{}}
	return http.Serve(ln, http.StripPrefix("/kv/", f))
}

// ServeHTTP answers GET (304 for a matching If-None-Match) and PUT (412
// for an If-Match that does not match) of the key the path names.
func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Path
	switch r.Method {
	case http.MethodGet:
		f.mu.Lock()
		it, ok := f.items[key]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", it.etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && inm == it.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(it.value)))
		_, _ = w.Write(it.value)
	case http.MethodPut:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ifMatch := strings.TrimSpace(r.Header.Get("If-Match"))
		f.mu.Lock()
		old, ok := f.items[key]
		if ifMatch != "" && (!ok || ifMatch != old.etag) {
			f.mu.Unlock()
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		f.rev++
		it := floorItem{value: body, etag: `"` + strconv.FormatUint(f.rev, 10) + `"`}
		f.items[key] = it
		f.mu.Unlock()
		w.Header().Set("ETag", it.etag)
		if ok {
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusCreated)
		}
	default:
		w.Header().Set("Allow", "GET, PUT")
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}
