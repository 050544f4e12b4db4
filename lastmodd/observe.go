package main

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// observe counts every request in the metrics, logs every 5xx answer
// (/readyz's aside) and, with access, every request. It logs the path (so the key) and
// never a body.
func observe(m *metrics, log *slog.Logger, access bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		m.inFlight.Inc()
		rec := &recorder{ResponseWriter: w, streamBegan: m.streams.Inc}
		defer func() {
			took := time.Since(began)
			m.inFlight.Dec()
			if rec.stream {
				m.streams.Dec()
			}
			code := rec.code
			if code == 0 {
				code = http.StatusOK // the handler wrote nothing: net/http answers 200
			}
			method, route := methodOf(r), routeOf(r, rec.stream)
			m.observe(method, route, code, took.Seconds())
			level := slog.LevelInfo
			switch {
			case code >= 500 && route != "/readyz":
				// A 503 from /readyz is what a stop is meant to say,
				// polled every few seconds: no error.
				level = slog.LevelError
			case !access:
				return
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.EscapedPath()),
				slog.Int("status", code),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", took),
				slog.String("remote", r.RemoteAddr))
		}()
		next.ServeHTTP(rec, r)
	})
}

// recorder notes what a handler answered. It hands the handler's
// deadlines and flushes on to the connection through Unwrap, which
// http.ResponseController follows, so change streams work through it.
type recorder struct {
	http.ResponseWriter
	code   int
	bytes  int64
	stream bool
	// streamBegan is called once, when the answer turns out to be a
	// change stream.
	streamBegan func()
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 { // 1xx answers are not the final one
		r.code = code
		if code == http.StatusOK && strings.HasPrefix(r.Header().Get("Content-Type"), "text/event-stream") {
			r.stream = true
			r.streamBegan()
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// FlushError flushes as http.ResponseController asks; a flush before any
// write sends the header, as it does without the recorder.
func (r *recorder) FlushError() error {
	if r.code == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(r.ResponseWriter).Flush()
}

// Flush is FlushError for handlers that ask for an http.Flusher.
func (r *recorder) Flush() { _ = r.FlushError() }

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
