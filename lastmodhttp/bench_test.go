package lastmodhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// benchHandler is a handler over a running store holding "k" = 1, with
// the request built once, so a benchmark measures the handler and the
// store, not the network.
func benchHandler(b *testing.B) (http.Handler, *store.Store[string, int]) {
	s, err := store.New[string, int](store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown() })
	if err := s.Set("k", 1); err != nil {
		b.Fatal(err)
	}
	return lastmodhttp.New[int](s), s
}

// BenchmarkGet is a GET of one key answered 200 with its value.
func BenchmarkGet(b *testing.B) {
	h, _ := benchHandler(b)
	req := httptest.NewRequest("GET", "/k", nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkGetNotModified is a revalidation answered 304.
func BenchmarkGetNotModified(b *testing.B) {
	h, _ := benchHandler(b)
	req := httptest.NewRequest("GET", "/k", nil)
	req.Header.Set("If-None-Match", `"1"`)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 304 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkPutIfMatch is a conditional update that always holds: the
// handler's Get, evaluation and CompareAndSet.
func BenchmarkPutIfMatch(b *testing.B) {
	h, s := benchHandler(b)
	item, _ := s.Get("k")
	etag := `"` + strconv.FormatUint(item.Revision, 10) + `"`
	for b.Loop() {
		req := httptest.NewRequest("PUT", "/k", strings.NewReader("2"))
		req.Header.Set("If-Match", etag)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		etag = rec.Header().Get("ETag")
	}
}
