package etcdstore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/lastmodhttp"
)

// The etcd store has lastmodhttp's Backend and all its optional methods:
// listing by time, the change stream, and resuming it (WatchFrom).
var (
	_ lastmodhttp.Backend[int]     = (*etcdstore.Store[int])(nil)
	_ lastmodhttp.SinceLister[int] = (*etcdstore.Store[int])(nil)
	_ lastmodhttp.Watcher[int]     = (*etcdstore.Store[int])(nil)
	_ lastmodhttp.Resumer[int]     = (*etcdstore.Store[int])(nil)
)

// front is an httptest server with a handler mounted at /kv/, closed at
// teardown, and a client of it.
type front struct {
	url    string
	client *http.Client
}

func serve(h http.Handler) front {
	mux := http.NewServeMux()
	mux.Handle("/kv/", http.StripPrefix("/kv", h))
	srv := httptest.NewServer(mux)
	// Close waits for the requests in flight, and closes the client's
	// idle connections; a handler that never returns fails the teardown.
	atTeardown(func() {
		closed := make(chan struct{})
		go func() { srv.Close(); close(closed) }()
		Eventually(closed).WithTimeout(hang).Should(BeClosed(), "the HTTP server's handlers to return at its Close")
	})
	return front{url: srv.URL + "/kv/", client: srv.Client()}
}

// reply is what the specs check of an HTTP response.
type reply struct {
	status int
	header http.Header
	body   string
}

// do sends one request for key ("" is the root, with a query if any);
// headers come in name, value pairs.
func (f front) do(method, key, body string, headers ...string) reply {
	GinkgoHelper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := must(http.NewRequest(method, f.url+key, rd))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp := must(f.client.Do(req))
	defer resp.Body.Close()
	return reply{status: resp.StatusCode, header: resp.Header, body: string(must(io.ReadAll(resp.Body)))}
}

// etagOf is the ETag lastmodhttp gives an item of revision rev.
func etagOf(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }

// listing decodes the body of GET / into key → revision.
func listing(body string) map[string]uint64 {
	GinkgoHelper()
	var items map[string]struct {
		Revision uint64 `json:"revision"`
	}
	Expect(json.Unmarshal([]byte(body), &items)).To(Succeed(), body)
	out := make(map[string]uint64, len(items))
	for k, it := range items {
		out[k] = it.Revision
	}
	return out
}

// sse is one Server-Sent Event.
type sse struct{ id, event, data string }

// readSSE reads the next event of a stream.
func readSSE(r *bufio.Reader) sse {
	GinkgoHelper()
	var ev sse
	for {
		line, err := r.ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return ev
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

var _ = Describe("etcdstore behind lastmodhttp", func() {
	var (
		prefix string
		s      *intStore
		f      front
	)
	BeforeEach(func() {
		prefix = newPrefix()
		s = running[int](clientOf(single), etcdstore.Config{Prefix: prefix})
		f = serve(lastmodhttp.New[int](s))
	})

	It("answers conditional requests with the etcd revision as ETag", func() {
		r := f.do("PUT", "k", "1")
		Expect(r.status).To(Equal(http.StatusCreated))
		item := must(s.Get("k"))
		Expect(item.Value).To(Equal(1))
		etag := etagOf(item.Revision)
		Expect(r.header.Get("ETag")).To(Equal(etag))
		lastMod := item.LastModified.UTC().Format(http.TimeFormat)

		r = f.do("GET", "k", "")
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(r.body).To(Equal("1"))
		Expect(r.header.Get("ETag")).To(Equal(etag))
		Expect(r.header.Get("Last-Modified")).To(Equal(lastMod))
		Expect(f.do("GET", "missing", "").status).To(Equal(http.StatusNotFound))

		r = f.do("GET", "k", "", "If-None-Match", etag)
		Expect(r.status).To(Equal(http.StatusNotModified))
		Expect(r.header.Get("ETag")).To(Equal(etag))
		Expect(f.do("GET", "k", "", "If-Modified-Since", lastMod).status).To(Equal(http.StatusNotModified))

		r = f.do("PUT", "k", "2", "If-Match", etag)
		Expect(r.status).To(Equal(http.StatusOK))
		item = must(s.Get("k"))
		Expect(item.Value).To(Equal(2))
		current := etagOf(item.Revision)
		Expect(r.header.Get("ETag")).To(Equal(current))
		Expect(current).NotTo(Equal(etag))

		By("a PUT at a stale revision losing, told the current one")
		r = f.do("PUT", "k", "3", "If-Match", etag)
		Expect(r.status).To(Equal(http.StatusPreconditionFailed))
		Expect(r.header.Get("ETag")).To(Equal(current))
		Expect(f.do("GET", "k", "").body).To(Equal("2"))

		By("If-None-Match: * creating only")
		r = f.do("PUT", "k", "4", "If-None-Match", "*")
		Expect(r.status).To(Equal(http.StatusPreconditionFailed))
		Expect(r.header.Get("ETag")).To(Equal(current))
		Expect(f.do("PUT", "fresh", "5", "If-None-Match", "*").status).To(Equal(http.StatusCreated))
		Expect(must(s.Get("fresh")).Value).To(Equal(5))

		By("a DELETE at a stale revision losing, at the current one deleting")
		Expect(f.do("DELETE", "k", "", "If-Match", etag).status).To(Equal(http.StatusPreconditionFailed))
		Expect(f.do("GET", "k", "").status).To(Equal(http.StatusOK))
		Expect(f.do("DELETE", "k", "", "If-Match", current).status).To(Equal(http.StatusNoContent))
		Expect(f.do("GET", "k", "").status).To(Equal(http.StatusNotFound))
		Expect(f.do("DELETE", "k", "", "If-Match", current).status).To(Equal(http.StatusPreconditionFailed))
	})

	It("lists the items, and those modified after a time with the store's ModifiedSince", func() {
		Expect(f.do("PUT", "a", "1").status).To(Equal(http.StatusCreated))
		Expect(f.do("PUT", "b", "2").status).To(Equal(http.StatusCreated))
		a, b := must(s.Get("a")), must(s.Get("b"))

		r := f.do("GET", "", "")
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(listing(r.body)).To(Equal(map[string]uint64{"a": a.Revision, "b": b.Revision}))

		r = f.do("GET", "?modified-since="+url.QueryEscape(a.LastModified.Format(time.RFC3339Nano)), "")
		Expect(r.status).To(Equal(http.StatusOK))
		Expect(listing(r.body)).To(Equal(map[string]uint64{"b": b.Revision}))
	})

	It("makes a client that read before another process wrote lose its conditional PUT", func() {
		// Two processes, each with a store of its own on one prefix.
		f1 := f
		f2 := serve(lastmodhttp.New[int](running[int](clientOf(single), etcdstore.Config{Prefix: prefix})))

		read := f1.do("PUT", "k", "1").header.Get("ETag")
		r := f2.do("PUT", "k", "2", "If-Match", read)
		Expect(r.status).To(Equal(http.StatusOK))
		won := r.header.Get("ETag")

		r = f1.do("PUT", "k", "3", "If-Match", read)
		Expect(r.status).To(Equal(http.StatusPreconditionFailed))
		Expect(r.header.Get("ETag")).To(Equal(won))
		Expect(f1.do("GET", "k", "").body).To(Equal("2"))
	})

	Describe("the change stream", func() {
		// open starts a stream on a server of its own whose handler closes
		// done when it returns; cancelling ctx is the client going away.
		open := func(ctx context.Context, s *intStore, headers ...string) (*bufio.Reader, <-chan struct{}) {
			GinkgoHelper()
			done := make(chan struct{})
			h := lastmodhttp.New[int](s)
			sf := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				h.ServeHTTP(w, r)
			}))
			ctx, cancel := context.WithCancel(ctx)
			// Registered after the server's Close, so it runs before it:
			// Close waits for the stream's request to end.
			atTeardown(cancel)
			req := must(http.NewRequestWithContext(ctx, "GET", sf.url, nil))
			req.Header.Set("Accept", "text/event-stream")
			for i := 0; i+1 < len(headers); i += 2 {
				req.Header.Set(headers[i], headers[i+1])
			}
			resp := must(sf.client.Do(req))
			// The handler starts the watch before it answers, so
			// every change made from here on is on the stream.
			Expect(resp.StatusCode).To(Equal(http.StatusOK))
			Expect(resp.Header.Get("Content-Type")).To(Equal("text/event-stream"))
			atTeardown(func() { _ = resp.Body.Close() })
			return bufio.NewReader(resp.Body), done
		}

		It("streams every process's changes with the revision as id, and ends when the client goes away", func(sctx SpecContext) {
			ctx, cancel := context.WithCancel(sctx)
			defer cancel()
			body, done := open(ctx, s)
			// Another process writing on the same prefix.
			other := serve(lastmodhttp.New[int](running[int](clientOf(single), etcdstore.Config{Prefix: prefix})))

			Expect(f.do("PUT", "a", "1").status).To(Equal(http.StatusCreated))
			a := must(s.Get("a"))
			ev := readSSE(body)
			Expect(ev.event).To(Equal("put"))
			Expect(ev.id).To(Equal(strconv.FormatUint(a.Revision, 10)))
			Expect(ev.data).To(MatchJSON(`{"key":"a","value":1,"revision":` + ev.id +
				`,"lastModified":` + string(must(json.Marshal(a.LastModified.UTC()))) + `}`))

			Expect(other.do("PUT", "b", "2").status).To(Equal(http.StatusCreated))
			ev = readSSE(body)
			Expect(ev.event).To(Equal("put"))
			Expect(ev.id).To(Equal(strconv.FormatUint(must(s.Get("b")).Revision, 10)))
			Expect(ev.data).To(ContainSubstring(`"key":"b","value":2`))

			Expect(other.do("DELETE", "a", "", "If-Match", etagOf(a.Revision)).status).To(Equal(http.StatusNoContent))
			ev = readSSE(body)
			Expect(ev.event).To(Equal("delete"))
			Expect(must(strconv.ParseUint(ev.id, 10, 64))).To(BeNumerically(">", must(s.Get("b")).Revision), "a delete is a change with its own revision")
			Expect(ev.data).To(ContainSubstring(`"key":"a"`))
			Expect(ev.data).To(ContainSubstring(`"revision":`+strconv.FormatUint(a.Revision, 10)), "the data is the removed item")

			cancel()
			Eventually(done).Should(BeClosed(), "the handler returned when the client went away")
		}, SpecTimeout(time.Minute))

		It("ends with an end event when the store stops, then answers 503", func(sctx SpecContext) {
			body, done := open(sctx, s)
			Expect(s.Shutdown()).To(Succeed())
			Expect(readSSE(body)).To(Equal(sse{event: "end", data: `{"reason":"store stopped"}`}))
			Eventually(done).Should(BeClosed())
			Expect(f.do("GET", "", "", "Accept", "text/event-stream").status).To(Equal(http.StatusServiceUnavailable))
			Expect(f.do("GET", "k", "").status).To(Equal(http.StatusServiceUnavailable))
		}, SpecTimeout(time.Minute))

		It("resumes a client reconnecting with Last-Event-ID right after it, through WatchFrom", func(sctx SpecContext) {
			ctx, cancel := context.WithCancel(sctx)
			body, _ := open(ctx, s)
			Expect(f.do("PUT", "a", "1").status).To(Equal(http.StatusCreated))
			first := readSSE(body)
			cancel() // the client goes away; the store changes meanwhile
			Expect(f.do("PUT", "b", "2").status).To(Equal(http.StatusCreated))
			Expect(f.do("DELETE", "a", "").status).To(Equal(http.StatusNoContent))

			body, _ = open(sctx, s, "Last-Event-ID", first.id)
			Expect(readSSE(body).event).To(Equal("put"), "b, missed")
			Expect(readSSE(body).event).To(Equal("delete"), "a, missed")
			Expect(f.do("PUT", "c", "3").status).To(Equal(http.StatusCreated))
			ev := readSSE(body)
			Expect(ev.event).To(Equal("put"))
			Expect(ev.data).To(ContainSubstring(`"key":"c"`), "then live")
		}, SpecTimeout(time.Minute))

		It("tells a client whose Last-Event-ID the cluster compacted away to list again, then streams live", func(sctx SpecContext) {
			Expect(f.do("PUT", "a", "1").status).To(Equal(http.StatusCreated))
			Expect(f.do("PUT", "a", "2").status).To(Equal(http.StatusOK))
			rev := must(clientOf(single).Get(sctx, "x")).Header.Revision
			Expect(clientOf(single).Compact(sctx, rev)).Error().NotTo(HaveOccurred())
			body, _ := open(sctx, s, "Last-Event-ID", "1")
			ev := readSSE(body)
			Expect(ev.event).To(Equal("reset"))
			Expect(ev.data).To(ContainSubstring(`"oldest":` + strconv.FormatInt(rev-1, 10)))
			Expect(ev.data).To(ContainSubstring("list the store again"))
			Expect(f.do("PUT", "a", "3").status).To(Equal(http.StatusOK))
			Expect(readSSE(body).event).To(Equal("put"))
		}, SpecTimeout(time.Minute))
	})
})
