package lastmodhttp_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
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

	// open starts a stream on a fresh server whose only stream request is
	// watched by the returned channel; headers come in name, value pairs.
	open := func(ctx context.Context, b lastmodhttp.Backend[any], headers ...string) (*server, *bufio.Reader, io.Closer, <-chan struct{}) {
		h, done := returned(lastmodhttp.New(b))
		srv := newServer(h)
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
		return srv, bufio.NewReader(resp.Body), resp.Body, done
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
		Eventually(done).Should(BeClosed())
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

	DescribeTable("tells a client it cannot resume (event: reset), then streams live",
		func(sctx SpecContext, lastID, reason string, backend func(*store.Store[string, any]) lastmodhttp.Backend[any]) {
			small := startStore[any](store.Config{}, store.WithHistory[string, any](2))
			defer small.Shutdown()
			for i := range 5 {
				Expect(small.Set("k", float64(i))).To(Succeed())
			}
			srv, body, closer, _ := open(sctx, backend(small), "Last-Event-ID", lastID)
			defer srv.close()
			defer closer.Close()
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
		Entry("an id older than the history", "1", `"oldest":3`, func(s *store.Store[string, any]) lastmodhttp.Backend[any] { return s }),
		Entry("an id ahead of the store", "99", "ahead of the store", func(s *store.Store[string, any]) lastmodhttp.Backend[any] { return s }),
		Entry("a malformed id", "x7", "malformed", func(s *store.Store[string, any]) lastmodhttp.Backend[any] { return s }),
		Entry("a Backend that cannot resume", "4", "resume not supported", func(s *store.Store[string, any]) lastmodhttp.Backend[any] { return watchOnly{s, s} }),
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

	It("answers 503 for a stream of a stopped store", func() {
		Expect(st.Shutdown()).To(Succeed())
		srv := newServer(lastmodhttp.New[any](st))
		defer srv.close()
		Expect(srv.do("GET", "/kv/", "", "Accept", "text/event-stream").status).To(Equal(503))
	})
})
