package lastmodhttp_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct{ id, event, data string }

// readEvent reads the next event from an SSE body.
func readEvent(r *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return ev, nil
		}
		name, value, _ := strings.Cut(line, ": ")
		switch name {
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			ev.data = value
		}
	}
}

// returned wraps h for a server that serves one request, and closes the
// channel it returns when that request's handler returns, so a spec can
// wait for the stream's handler to be done.
func returned(h http.Handler) (http.Handler, <-chan struct{}) {
	done := make(chan struct{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		h.ServeHTTP(w, r)
	}), done
}

// watchOnly is a Backend with a change stream it cannot resume: a store
// without WatchFrom.
type watchOnly struct {
	lastmodhttp.Backend[any]
	lastmodhttp.Watcher[any]
}

// watching is a store whose Watch closes started once the watch is under
// way, so a spec whose client cannot read the stream knows that every
// change from then on goes to it.
type watching struct {
	*store.Store[string, any]
	started chan struct{}
}

func (w watching) Watch(ctx context.Context) (<-chan store.Event[string, any], error) {
	events, err := w.Store.Watch(ctx)
	close(w.started)
	return events, err
}

// stuckWriter is a ResponseWriter whose client never reads: its Write
// blocks until the write deadline has passed, then fails, as a
// connection's would. It closes writing when a Write first blocks.
type stuckWriter struct {
	header  http.Header
	writing chan struct{}
	moved   chan struct{} // a new deadline, or the spec giving up

	mu       sync.Mutex
	deadline time.Time
	released bool
}

func newStuckWriter() *stuckWriter {
	return &stuckWriter{header: http.Header{}, writing: make(chan struct{}), moved: make(chan struct{}, 1)}
}

func (w *stuckWriter) Header() http.Header { return w.header }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) FlushError() error   { return nil }

func (w *stuckWriter) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	w.deadline = t
	w.mu.Unlock()
	select {
	case w.moved <- struct{}{}:
	default:
	}
	return nil
}

// release makes every Write fail at once, so the handler can end after a
// spec failed.
func (w *stuckWriter) release() {
	w.mu.Lock()
	w.released = true
	w.mu.Unlock()
	_ = w.SetWriteDeadline(time.Time{})
}

func (w *stuckWriter) Write([]byte) (int, error) {
	select {
	case <-w.writing:
	default:
		close(w.writing)
	}
	for {
		w.mu.Lock()
		d, released := w.deadline, w.released
		w.mu.Unlock()
		if released || !d.IsZero() && !time.Now().Before(d) {
			return 0, os.ErrDeadlineExceeded
		}
		var expired <-chan time.Time
		if !d.IsZero() {
			timer := time.NewTimer(time.Until(d))
			defer timer.Stop()
			expired = timer.C
		}
		select {
		case <-w.moved:
		case <-expired:
		}
	}
}

var _ = Describe("the change stream", func() {
	var (
		ignore goleak.Option
		st     *store.Store[string, any]
	)
	BeforeEach(func() {
		ignore = goleak.IgnoreCurrent()
		st = startStore[any](store.Config{})
	})
	AfterEach(func() {
		_ = st.Shutdown()
		Expect(goleak.Find(ignore)).To(Succeed())
	})

	// stream opens a change stream on srv and checks that it began;
	// headers come in name, value pairs.
	stream := func(ctx context.Context, srv *server, headers ...string) (*bufio.Reader, io.Closer) {
		GinkgoHelper()
		req, err := http.NewRequestWithContext(ctx, "GET", srv.srv.URL+"/kv/", nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Accept", "text/event-stream")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := srv.client.Do(req)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(200))
		Expect(resp.Header.Get("Content-Type")).To(Equal("text/event-stream"))
		Expect(resp.Close).To(BeTrue(), "over HTTP/1.1 the stream's connection closes with it, so a deadline it set is not inherited")
		return bufio.NewReader(resp.Body), resp.Body
	}

	// open starts a stream on a fresh server whose only stream request is
	// watched by the returned channel; headers come in name, value pairs.
	open := func(ctx context.Context, b lastmodhttp.Backend[any], headers ...string) (*server, *bufio.Reader, io.Closer, <-chan struct{}) {
		GinkgoHelper()
		h, done := returned(lastmodhttp.New(b))
		srv := newServer(h)
		body, closer := stream(ctx, srv, headers...)
		return srv, body, closer, done
	}

	It("streams every change with its revision as id, and ends when the client goes away", func(sctx SpecContext) {
		ctx, cancel := context.WithCancel(sctx)
		defer cancel()
		srv, body, closer, done := open(ctx, st)
		defer srv.close()
		defer closer.Close()
		// A second server writes, so the stream's done channel sees only
		// the stream.
		wsrv := newServer(lastmodhttp.New[any](st))
		defer wsrv.close()

		Expect(wsrv.do("PUT", "/kv/a", `{"n":1}`).status).To(Equal(201))
		item, _ := st.Get("a")
		ev, err := readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.event).To(Equal("put"))
		Expect(ev.id).To(Equal("1"))
		Expect(ev.data).To(MatchJSON(`{"key":"a","value":{"n":1},"revision":1,"lastModified":` + mustJSON(item.LastModified.UTC()) + `}`))

		Expect(wsrv.do("DELETE", "/kv/a", "").status).To(Equal(204))
		ev, err = readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.event).To(Equal("delete"))
		Expect(ev.id).To(Equal("2"), "a delete is a change of its own")
		Expect(ev.data).To(ContainSubstring(`"revision":1`), "the data is the removed item")

		Expect(st.SetWithTTL("b", 2.0, time.Millisecond)).To(Succeed())
		ev, err = readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.event).To(Equal("put"))
		Eventually(func() error { _, err := st.Get("b"); return err }).Should(MatchError(store.ErrNotFound))
		ev, err = readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.event).To(Equal("expire"))
		Expect(ev.id).To(Equal("4"))
		Expect(ev.data).To(ContainSubstring(`"key":"b"`))

		Expect(st.Clear()).To(Succeed())
		ev, err = readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(sseEvent{id: "5", event: "clear", data: "{}"}))

		cancel()
		Eventually(done).Should(BeClosed(), "the handler returned when the client went away")
	}, SpecTimeout(20*time.Second))

	// An Accept that ranks the stream below 1, or an option left at zero,
	// still gets a stream that delivers.
	DescribeTable("streams with a q below 1 and with a zero stream write timeout",
		func(sctx SpecContext, accept string, opts ...lastmodhttp.Option) {
			ctx, cancel := context.WithCancel(sctx)
			defer cancel()
			h, done := returned(lastmodhttp.New[any](st, opts...))
			srv := newServer(h)
			defer srv.close()
			body, closer := stream(ctx, srv, "Accept", accept)
			defer closer.Close()
			Expect(st.Set("a", 1.0)).To(Succeed())
			ev, err := readEvent(body)
			Expect(err).NotTo(HaveOccurred())
			Expect(ev.event).To(Equal("put"))
			cancel()
			Eventually(done).Should(BeClosed(), "the handler returned when the client went away")
		},
		Entry("text/event-stream;q=0.5", SpecTimeout(20*time.Second), "text/event-stream;q=0.5"),
		Entry("WithStreamWriteTimeout(0), which keeps the default", SpecTimeout(20*time.Second), "text/event-stream", lastmodhttp.WithStreamWriteTimeout(0)),
	)

	It("ends with an end event when the store stops", func(sctx SpecContext) {
		srv, body, closer, done := open(sctx, st)
		defer srv.close()
		defer closer.Close()
		Expect(st.Shutdown()).To(Succeed())
		ev, err := readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.event).To(Equal("end"))
		Expect(ev.data).To(ContainSubstring("store stopped"))
		_, err = readEvent(body)
		Expect(err).To(MatchError(io.EOF))
		Eventually(done).Should(BeClosed(), "the handler returned after the end event")
	}, SpecTimeout(20*time.Second))

	It("resumes a client with Last-Event-ID right after it: nothing lost, nothing twice", func(sctx SpecContext) {
		srv, body, closer, _ := open(sctx, st)
		defer srv.close()
		Expect(st.Set("a", 1.0)).To(Succeed())
		first, err := readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(first.id).To(Equal("1"))
		closer.Close() // the connection drops; meanwhile the store changes

		Expect(st.Set("b", 2.0)).To(Succeed())
		Expect(st.Delete("a")).To(Succeed())
		Expect(st.Clear()).To(Succeed())

		srv2, body, closer, _ := open(sctx, st, "Last-Event-ID", first.id)
		defer srv2.close()
		defer closer.Close()
		var got []string
		for range 3 {
			ev, err := readEvent(body)
			Expect(err).NotTo(HaveOccurred())
			got = append(got, ev.id+" "+ev.event)
		}
		Expect(got).To(Equal([]string{"2 put", "3 delete", "4 clear"}), "the missed changes, replayed in order")
		Expect(st.Set("c", 3.0)).To(Succeed())
		ev, err := readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.id+" "+ev.event).To(Equal("5 put"), "then live, with no gap")
	}, SpecTimeout(20*time.Second))

	DescribeTable("tells a client it cannot resume (event: reset, and Lastmod-Reset saying why), then streams live",
		func(sctx SpecContext, lastID, reason string, backend func(*store.Store[string, any]) lastmodhttp.Backend[any], kind, oldest string) {
			small := startStore[any](store.Config{}, store.WithHistory[string, any](2))
			defer small.Shutdown()
			for i := range 5 {
				Expect(small.Set("k", float64(i))).To(Succeed())
			}
			h, _ := returned(lastmodhttp.New(backend(small)))
			srv := newServer(h)
			defer srv.close()
			req, err := http.NewRequestWithContext(sctx, "GET", srv.srv.URL+"/kv/", nil)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Last-Event-ID", lastID)
			resp, err := srv.client.Do(req)
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(200))
			Expect(resp.Header.Get("Lastmod-Reset")).To(Equal(kind))
			Expect(resp.Header.Get("Lastmod-Oldest")).To(Equal(oldest))
			body := bufio.NewReader(resp.Body)
			ev, err := readEvent(body)
			Expect(err).NotTo(HaveOccurred())
			Expect(ev.event).To(Equal("reset"))
			Expect(ev.id).To(BeEmpty(), "a reset is no change to resume after")
			Expect(ev.data).To(ContainSubstring(reason))
			Expect(ev.data).To(ContainSubstring("list the store again"))
			Expect(small.Set("k", 9.0)).To(Succeed())
			ev, err = readEvent(body)
			Expect(err).NotTo(HaveOccurred())
			Expect(ev.id + " " + ev.event).To(Equal("6 put"))
		},
		Entry("an id older than the history", "1", `"oldest":3`, func(s *store.Store[string, any]) lastmodhttp.Backend[any] { return s }, "compacted", "3", SpecTimeout(20*time.Second)),
		Entry("an id ahead of the store", "99", "ahead of the store", func(s *store.Store[string, any]) lastmodhttp.Backend[any] { return s }, "future", "", SpecTimeout(20*time.Second)),
		Entry("a malformed id", "x7", "malformed", func(s *store.Store[string, any]) lastmodhttp.Backend[any] { return s }, "malformed", "", SpecTimeout(20*time.Second)),
		Entry("a Backend that cannot resume", "4", "resume not supported", func(s *store.Store[string, any]) lastmodhttp.Backend[any] { return watchOnly{s, s} }, "unsupported", "", SpecTimeout(20*time.Second)),
	)

	It("leaves out the changes of keys that are not valid UTF-8, rather than naming them U+FFFD", func(sctx SpecContext) {
		srv, body, closer, _ := open(sctx, st)
		defer srv.close()
		defer closer.Close()
		Expect(st.Set("\xff", 1.0)).To(Succeed())
		Expect(st.Delete("\xff")).To(Succeed())
		Expect(st.Set("ok", 2.0)).To(Succeed())
		Expect(st.Clear()).To(Succeed())
		ev, err := readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.id+" "+ev.event).To(Equal("3 put"), "the put and delete of \\xff are not on the stream")
		Expect(ev.data).To(ContainSubstring(`"key":"ok"`))
		ev, err = readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(sseEvent{id: "4", event: "clear", data: "{}"}))
	}, SpecTimeout(20*time.Second))

	It("cuts a write stuck on a client that does not read when the request's context ends", func(sctx SpecContext) {
		ws := watching{st, make(chan struct{})}
		h := lastmodhttp.New[any](ws, lastmodhttp.WithStreamWriteTimeout(time.Hour))
		w := newStuckWriter()
		defer w.release()
		ctx, cancel := context.WithCancel(sctx)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
		req.Header.Set("Accept", "text/event-stream")
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(w, req)
		}()
		Eventually(ws.started).Should(BeClosed(), "the stream's watch began")
		Expect(st.Set("k", 1.0)).To(Succeed())
		Eventually(w.writing).Should(BeClosed(), "the handler blocked writing the change")
		cancel() // as a server's Shutdown cancels its requests' base context
		Eventually(done).WithTimeout(10*time.Second).Should(BeClosed(), "the handler returned though its client never read")
	}, SpecTimeout(30*time.Second))

	It("ends cleanly, with the response's last chunk, for a client that reads when the request's context ends", func(sctx SpecContext) {
		base, endRequests := context.WithCancel(context.Background())
		defer endRequests()
		h, done := returned(lastmodhttp.New[any](st))
		srv := newServerWith(h, func(s *http.Server) { s.BaseContext = func(net.Listener) context.Context { return base } })
		defer srv.close()
		body, closer := stream(sctx, srv)
		defer closer.Close()
		Expect(st.Set("k", 1.0)).To(Succeed())
		ev, err := readEvent(body)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.event).To(Equal("put"))

		endRequests() // as lastmodd does when its server shuts down
		_, err = io.ReadAll(body)
		Expect(err).NotTo(HaveOccurred(), "the stream ended cleanly")
		Eventually(done).Should(BeClosed(), "the handler returned after the stream ended")
	}, SpecTimeout(20*time.Second))

	It("ends a stream whose client stops reading once a write takes longer than the stream write timeout", func(sctx SpecContext) {
		ws := watching{st, make(chan struct{})}
		h, done := returned(lastmodhttp.New[any](ws, lastmodhttp.WithStreamWriteTimeout(200*time.Millisecond)))
		srv := newServer(h)
		defer srv.close()
		conn := srv.dialStream()
		defer conn.Close() // first, so that a handler still writing fails and Close can wait for it
		Eventually(ws.started).Should(BeClosed(), "the stream's watch began")
		big := strings.Repeat("x", 900<<10)
		for i := range 40 {
			Expect(st.Set("big"+strconv.Itoa(i), big)).To(Succeed())
		}
		Eventually(done).WithTimeout(10*time.Second).Should(BeClosed(), "the handler gave up on the client that does not read")
	}, SpecTimeout(30*time.Second))

	// outwait returns once srv has cut, at its ReadTimeout, a request
	// whose header never ends, begun now: a clock that needs no sleep.
	outwait := func(srv *server) {
		GinkgoHelper()
		stalled, err := net.Dial("tcp", srv.srv.Listener.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer stalled.Close()
		_, err = io.WriteString(stalled, "GET /kv/k HTTP/1.1\r\nHost: lastmodhttp\r\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(stalled.SetReadDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
		_, err = io.ReadAll(stalled)
		Expect(err).NotTo(HaveOccurred(), "the server cut the stalled request at its ReadTimeout")
	}

	It("keeps an idle stream open past its own write timeout, which covers the writes only", func(sctx SpecContext) {
		const timeout = 300 * time.Millisecond
		h, done := returned(lastmodhttp.New[any](st, lastmodhttp.WithStreamWriteTimeout(timeout)))
		srv := newServerWith(h, func(s *http.Server) { s.ReadTimeout = timeout })
		defer srv.close()
		body, closer := stream(sctx, srv)
		defer closer.Close()
		for _, key := range []string{"before", "after"} {
			Expect(st.Set(key, 1.0)).To(Succeed())
			ev, err := readEvent(body)
			Expect(err).NotTo(HaveOccurred(), "the stream is still open")
			Expect(ev.data).To(ContainSubstring(`"key":"` + key + `"`))
			outwait(srv) // idle for longer than the write timeout
		}
		Expect(done).NotTo(BeClosed())
	}, SpecTimeout(30*time.Second))

	It("outlives the server's ReadTimeout and WriteTimeout, which bound other requests", func(sctx SpecContext) {
		const timeout = 300 * time.Millisecond
		h, done := returned(lastmodhttp.New[any](st))
		srv := newServerWith(h, func(s *http.Server) { s.ReadTimeout, s.WriteTimeout = timeout, timeout })
		defer srv.close()
		body, closer := stream(sctx, srv)
		defer closer.Close()

		// Once the server has cut a request begun now, the timeouts have
		// passed for the stream too.
		outwait(srv)

		Expect(st.Set("after", 1.0)).To(Succeed())
		ev, err := readEvent(body)
		Expect(err).NotTo(HaveOccurred(), "the stream is still open")
		Expect(ev.event).To(Equal("put"))
		Expect(ev.data).To(ContainSubstring(`"key":"after"`))
		Expect(done).NotTo(BeClosed())
	}, SpecTimeout(30*time.Second))

	It("answers 503 for a stream of a stopped store", func() {
		Expect(st.Shutdown()).To(Succeed())
		srv := newServer(lastmodhttp.New[any](st))
		defer srv.close()
		Expect(srv.do("GET", "/kv/", "", "Accept", "text/event-stream").status).To(Equal(503))
	})
})
