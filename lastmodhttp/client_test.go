package lastmodhttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

// cutter stands between a client and a handler and can drop its change
// streams, like a network that fails: cut ends every stream under way,
// and holds new ones until resume, telling reconnects which Last-Event-ID
// each asked for.
type cutter struct {
	h http.Handler

	mu      sync.Mutex
	cancels []context.CancelFunc
	held    chan struct{} // closed: streams go through
	// answer, when set, answers held streams instead of the handler.
	answer int

	reconnects chan string // the Last-Event-ID of each held stream
}

func newCutter(h http.Handler) *cutter {
	open := make(chan struct{})
	close(open)
	return &cutter{h: h, held: open, reconnects: make(chan string, 64)}
}

func (c *cutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Accept") != "text/event-stream" {
		c.h.ServeHTTP(w, r)
		return
	}
	c.mu.Lock()
	held, answer := c.held, c.answer
	c.mu.Unlock()
	select {
	case <-held:
	default:
		c.reconnects <- r.Header.Get("Last-Event-ID")
		if answer != 0 {
			http.Error(w, "bad gateway", answer)
			return
		}
		select {
		case <-held:
		case <-r.Context().Done():
			return
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	c.mu.Lock()
	c.cancels = append(c.cancels, cancel)
	c.mu.Unlock()
	c.h.ServeHTTP(w, r.WithContext(ctx))
}

// cut drops every stream under way and holds new ones.
func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cancel := range c.cancels {
		cancel()
	}
	c.cancels = nil
	c.held = make(chan struct{})
}

// resume lets held streams, and new ones, through.
func (c *cutter) resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.held:
	default:
		close(c.held)
	}
}

// answerHeld makes held streams get status at once, as from a proxy whose
// backend is down.
func (c *cutter) answerHeld(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer = status
}

// receive returns the next event of a watch, failing the spec if none
// comes within the Eventually timeout.
func receive[V any](events <-chan store.Event[string, V], what string) store.Event[string, V] {
	GinkgoHelper()
	var ev store.Event[string, V]
	Eventually(events).Should(Receive(&ev), what)
	return ev
}

// summary is an event as "revision kind key".
func summary[V any](ev store.Event[string, V]) string {
	kinds := map[store.EventKind]string{
		store.EventPut: "put", store.EventDelete: "delete", store.EventClear: "clear",
		store.EventExpire: "expire", store.EventEvict: "evict", store.EventEnd: "end",
	}
	return strings.TrimSpace(fmt.Sprint(ev.Revision, " ", kinds[ev.Kind], " ", ev.Key))
}

var _ = Describe("the Client", func() {
	var (
		ignore goleak.Option
		st     *store.Store[string, int]
		// toStop is what the spec started, stopped before the leak
		// check, last first (a DeferCleanup would run after it).
		toStop []func()
	)
	atTeardown := func(f func()) { toStop = append(toStop, f) }
	BeforeEach(func() {
		ignore = goleak.IgnoreCurrent()
		toStop = nil
		st = startStore[int](store.Config{}, store.WithHistory[string, int](8))
	})
	AfterEach(func() {
		for i := len(toStop) - 1; i >= 0; i-- {
			toStop[i]()
		}
		_ = st.Shutdown()
		Expect(goleak.Find(ignore)).To(Succeed())
	})

	// client returns a Client of a server of h mounted at /kv/; both are
	// closed at teardown, the client first.
	client := func(h http.Handler, opts ...lastmodhttp.ClientOption) *lastmodhttp.Client[int] {
		GinkgoHelper()
		srv := newServer(h)
		atTeardown(srv.close)
		c, err := lastmodhttp.NewClient[int](srv.srv.URL+"/kv/", opts...)
		Expect(err).NotTo(HaveOccurred())
		atTeardown(func() { Expect(c.Close()).To(Succeed()) })
		return c
	}

	Describe("NewClient", func() {
		DescribeTable("refuses a base URL it cannot use with ErrInvalidConfig",
			func(base string) {
				c, err := lastmodhttp.NewClient[int](base)
				Expect(err).To(MatchError(store.ErrInvalidConfig))
				Expect(c).To(BeNil())
			},
			Entry("not a URL", "http://[::1"),
			Entry("relative", "/kv/"),
			Entry("another scheme", "ftp://example.com/kv/"),
			Entry("no host", "http:///kv/"),
			Entry("a query", "http://example.com/kv/?x=1"),
			Entry("an empty query", "http://example.com/kv/?"),
			Entry("a fragment", "http://example.com/kv/#top"),
		)

		It("adds the slash a base URL lacks, and starts nothing", func() {
			c := client(lastmodhttp.New[int](st))
			Expect(c.Set("k", 1)).To(Succeed())
			srv := newServer(lastmodhttp.New[int](st))
			atTeardown(srv.close)
			bare, err := lastmodhttp.NewClient[int](srv.srv.URL + "/kv")
			Expect(err).NotTo(HaveOccurred())
			atTeardown(func() { Expect(bare.Close()).To(Succeed()) })
			Expect(bare.Get("k")).To(HaveField("Value", 1))
		})
		It("keeps an escaped slash of the base URL's path as it is when it adds the slash", func() {
			paths := make(chan string, 1)
			srv := newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case paths <- r.URL.EscapedPath():
				default:
				}
				http.NotFound(w, r)
			}))
			atTeardown(srv.close)
			c, err := lastmodhttp.NewClient[int](srv.srv.URL + "/kv/a%2Fb")
			Expect(err).NotTo(HaveOccurred())
			atTeardown(func() { Expect(c.Close()).To(Succeed()) })
			_, _ = c.Get("k") // a 404: only its path matters
			Expect(paths).To(Receive(Equal("/a%2Fb/k")), "the path under /kv/ the Get asked for")
		})
	})

	It("addresses any UTF-8 key, through a ServeMux, as one path segment", func() {
		c := client(lastmodhttp.New[int](st))
		keys := []string{".", "..", "a/b", "a/../b", "//", "a b", "100%", "?x=1", "#frag", "été", "a%2Fb", "k\x00"}
		for i, k := range keys {
			Expect(c.Set(k, i)).To(Succeed(), "%q", k)
		}
		for i, k := range keys {
			item, err := st.Get(k)
			Expect(err).NotTo(HaveOccurred(), "%q reached the store as itself", k)
			Expect(item.Value).To(Equal(i))
			Expect(c.Get(k)).To(HaveField("Value", i), "%q", k)
		}
		Expect(c.List()).To(HaveLen(len(keys)))
		Expect(c.Get("")).Error().To(MatchError(store.ErrInvalidKey))
		Expect(c.Set("\xff", 1)).To(MatchError(store.ErrInvalidKey))
		Expect(c.GetMany([]string{"a", ""})).Error().To(MatchError(store.ErrInvalidKey))
		Expect(c.SetMany(map[string]int{"\xfe": 1})).To(MatchError(store.ErrInvalidKey))
	})

	Describe("errors", func() {
		It("maps the handler's answers back to the store's errors", func() {
			full := startStore[int](store.Config{MaxSize: 1})
			atTeardown(func() { _ = full.Shutdown() })
			c := client(lastmodhttp.New[int](full, lastmodhttp.WithMaxKeyBytes(8)))
			Expect(c.Get("missing")).Error().To(MatchError(store.ErrNotFound))
			Expect(c.Delete("missing")).To(MatchError(store.ErrNotFound))
			Expect(c.Set("a", 1)).To(Succeed())
			Expect(c.Set("b", 1)).To(MatchError(store.ErrStoreFull))
			Expect(c.Get("much-too-long")).Error().To(MatchError(store.ErrInvalidKey))
			Expect(c.SetWithTTL("a", 1, -time.Second)).To(MatchError(store.ErrInvalidTTL))

			a := must(c.Get("a"))
			_, err := c.CompareAndSet("a", 2, a.Revision+1)
			var ce *store.ConflictError
			Expect(errors.As(err, &ce)).To(BeTrue())
			Expect(*ce).To(Equal(store.ConflictError{Revision: a.Revision, LastModified: a.LastModified}))

			Expect(full.Shutdown()).To(Succeed())
			Expect(c.Get("a")).Error().To(MatchError(store.ErrNotRunning))
		})

		It("maps the handler's 501 to errors.ErrUnsupported, naming the method the store lacks", func() {
			ms, err := mutexstore.New[string, int](store.Config{})
			Expect(err).NotTo(HaveOccurred())
			Expect(ms.Start(GinkgoT().Context())).To(Succeed())
			atTeardown(func() { _ = ms.Shutdown() })
			c := client(lastmodhttp.New[int](ms))
			_, err = c.Watch(GinkgoT().Context())
			Expect(err).To(MatchError(errors.ErrUnsupported))
			Expect(err).To(MatchError(ContainSubstring("(Watch)")))
			Expect(c.Set("k", 1)).To(Succeed(), "the rest works")
		})

		It("answers a backend that cannot answer for now with 503 unavailable, which the Client turns back into store.ErrUnavailable", func() {
			down := fmt.Errorf("%w: no quorum", store.ErrUnavailable)
			c := client(lastmodhttp.New[int](unavailableBackend{err: down}))
			_, err := c.Get("k")
			Expect(err).To(MatchError(store.ErrUnavailable))
			Expect(err).To(MatchError(ContainSubstring("no quorum")))
			Expect(c.Set("k", 1)).To(MatchError(store.ErrUnavailable))
			Expect(c.Delete("k")).To(MatchError(store.ErrUnavailable))

			srv := newServer(lastmodhttp.New[int](unavailableBackend{err: down}))
			atTeardown(srv.close)
			r := srv.do("GET", "/kv/k", "")
			Expect(r.status).To(Equal(http.StatusServiceUnavailable))
			Expect(r.header.Get("Lastmod-Error")).To(Equal("unavailable"))
			Expect(r.header.Get("Retry-After")).To(Equal("1"), "a retry, or another replica, may do better")
		})

		It("tells the handler's answers from anything else's: a foreign status is a *StatusError", func() {
			foreign := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/moved":
					http.Redirect(w, r, "/kv/", http.StatusFound)
				case "/busy":
					w.Header().Set("Lastmod-Error", "busy")
					http.Error(w, "lastmodhttp: too many concurrent writes", http.StatusServiceUnavailable)
				default:
					http.NotFound(w, r)
				}
			})
			c := client(foreign)
			_, err := c.Get("k")
			var se *lastmodhttp.StatusError
			Expect(errors.As(err, &se)).To(BeTrue(), "%v", err)
			Expect(se.StatusCode).To(Equal(http.StatusNotFound))
			Expect(se.Code).To(BeEmpty())
			Expect(err).NotTo(MatchError(store.ErrNotFound), "a proxy's 404 is not the store's")
			Expect(err.Error()).To(ContainSubstring("404 Not Found: 404 page not found"))

			_, err = c.Get("moved")
			Expect(errors.As(err, &se)).To(BeTrue(), "a redirect is not followed: %v", err)
			Expect(se.StatusCode).To(Equal(http.StatusFound))

			Expect(c.Set("busy", 1)).To(MatchError(lastmodhttp.ErrBusy))
		})

		It("gives up a read-and-write loop the server refuses every time with ErrBusy, after 100 rounds", func() {
			var puts atomic.Int64
			refusing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"7"`)
				w.Header().Set("Lastmod-Last-Modified", "2026-01-02T03:04:05Z")
				if r.Method == http.MethodGet {
					_, _ = w.Write([]byte("1"))
					return
				}
				puts.Add(1)
				w.Header().Set("Lastmod-Error", "precondition-failed")
				w.WriteHeader(http.StatusPreconditionFailed)
			})
			c := client(refusing)
			inc := func(item *store.Item[int]) (int, store.Op) { return item.Value + 1, store.Write }
			Expect(c.Update("k", inc)).Error().To(MatchError(lastmodhttp.ErrBusy))
			Expect(puts.Load()).To(Equal(int64(100)))
			Expect(c.SetIfUnmodifiedSince("k", 2, time.Now())).Error().To(MatchError(lastmodhttp.ErrBusy))
			Expect(c.DeleteIfUnmodifiedSince("k", time.Now())).To(MatchError(lastmodhttp.ErrBusy))
		})

		It("refuses an answer it cannot read with ErrBadResponse", func() {
			bad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch strings.TrimPrefix(r.URL.Path, "/") {
				case "weak":
					w.Header().Set("ETag", `W/"1"`)
				case "time":
					w.Header().Set("ETag", `"1"`)
					w.Header().Set("Lastmod-Last-Modified", "yesterday")
				case "body":
					w.Header().Set("ETag", `"1"`)
					w.Header().Set("Lastmod-Last-Modified", "2026-01-02T03:04:05Z")
					_, _ = w.Write([]byte(`"one"`))
					return
				case "":
					_, _ = w.Write([]byte(`{"a": {"value": 1}}`))
					return
				}
				_, _ = w.Write([]byte("1"))
			})
			c := client(bad)
			for _, k := range []string{"weak", "time", "body"} {
				Expect(c.Get(k)).Error().To(MatchError(lastmodhttp.ErrBadResponse), k)
			}
			Expect(c.List()).Error().To(MatchError(lastmodhttp.ErrBadResponse), "an item without its revision")
		})

		It("reads no more than WithMaxResponseBytes of an answer", func() {
			c := client(lastmodhttp.New[int](st), lastmodhttp.WithMaxResponseBytes(64))
			for i := range 10 {
				Expect(c.Set("key"+strconv.Itoa(i), i)).To(Succeed())
			}
			Expect(c.List()).Error().To(MatchError(lastmodhttp.ErrBadResponse))
			Expect(c.Get("key1")).To(HaveField("Value", 1), "a small answer still goes through")
		})

		It("returns the transport's error for a server that is not there", func() {
			srv := newServer(lastmodhttp.New[int](st))
			base := srv.srv.URL + "/kv/"
			srv.close()
			c, err := lastmodhttp.NewClient[int](base)
			Expect(err).NotTo(HaveOccurred())
			atTeardown(func() { Expect(c.Close()).To(Succeed()) })
			_, err = c.Get("k")
			var ue *url.Error
			Expect(errors.As(err, &ue)).To(BeTrue(), "%v", err)
		})
	})

	Describe("timeouts and contexts", func() {
		var (
			stall   chan struct{}
			entered chan struct{}
			h       http.Handler
		)
		BeforeEach(func() {
			stall, entered = make(chan struct{}), make(chan struct{}, 8)
			inner := lastmodhttp.New[int](st)
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				entered <- struct{}{}
				select {
				case <-stall:
				case <-r.Context().Done():
				}
				inner.ServeHTTP(w, r)
			})
		})
		// The stalled handlers are let go after the client's Close and
		// before the server's, which waits for them.
		stallingClient := func(opts ...lastmodhttp.ClientOption) *lastmodhttp.Client[int] {
			GinkgoHelper()
			c := client(h, opts...)
			atTeardown(func() { close(stall) })
			return c
		}

		It("ends a call that takes longer than WithTimeout", func() {
			c := stallingClient(lastmodhttp.WithTimeout(50 * time.Millisecond))
			_, err := c.Get("k")
			Expect(err).To(MatchError(context.DeadlineExceeded))
		})

		It("ends a ...Context call when its context ends", func() {
			c := stallingClient()
			ctx, cancel := context.WithCancel(GinkgoT().Context())
			done := make(chan error, 1)
			go func() { done <- c.SetContext(ctx, "k", 1) }()
			Eventually(entered).Should(Receive(), "the request to reach the server")
			cancel()
			var err error
			Eventually(done).Should(Receive(&err), "SetContext to return")
			Expect(err).To(MatchError(context.Canceled))
			var nilCtx context.Context
			Expect(c.GetContext(nilCtx, "k")).Error().To(MatchError(store.ErrNilContext))
		})

		It("ends the calls in flight at Close, with ErrClosed, and every later call", func() {
			c := stallingClient()
			done := make(chan error, 1)
			go func() { done <- c.Set("k", 1) }()
			Eventually(entered).Should(Receive(), "the request to reach the server")
			Expect(c.Close()).To(Succeed())
			var err error
			Eventually(done).Should(Receive(&err), "Set to return")
			Expect(err).To(MatchError(lastmodhttp.ErrClosed))
			Expect(err).To(MatchError(store.ErrNotRunning), "as a stopped store's calls")
			Expect(c.Get("k")).Error().To(MatchError(lastmodhttp.ErrClosed))
			Expect(c.Watch(GinkgoT().Context())).Error().To(MatchError(lastmodhttp.ErrClosed))
			Expect(c.Close()).To(Succeed(), "twice")
		})
	})

	It("answers ErrNotRunning from every call of a nil *Client, and panics in none", func() {
		var c *lastmodhttp.Client[int]
		ctx := GinkgoT().Context()
		for name, call := range map[string]func() error{
			"Get":     func() error { return errOf(c.Get("k")) },
			"Set":     func() error { return c.Set("k", 1) },
			"CAS":     func() error { return errOf(c.CompareAndSet("k", 1, 0)) },
			"SetMany": func() error { return c.SetMany(map[string]int{"k": 1}) },
			"Update": func() error {
				return errOf(c.Update("k", func(*store.Item[int]) (int, store.Op) { return 0, store.Keep }))
			},
			"Watch":     func() error { return errOf(c.Watch(ctx)) },
			"WatchFrom": func() error { return errOf(c.WatchFrom(ctx, 1)) },
			"Stats":     func() error { return errOf(c.Stats()) },
		} {
			Expect(call()).To(MatchError(store.ErrNotRunning), name)
		}
		Expect(c.Close()).To(Succeed())
		for range c.All() {
			Fail("a nil Client yielded an item")
		}
	})

	It("sends its requests with the *http.Client it is given", func() {
		var sent atomic.Int64
		hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			sent.Add(1)
			return http.DefaultTransport.RoundTrip(r)
		})}
		c := client(lastmodhttp.New[int](st), lastmodhttp.WithHTTPClient(hc))
		Expect(c.Set("k", 1)).To(Succeed())
		Expect(c.Get("k")).To(HaveField("Value", 1))
		Expect(sent.Load()).To(Equal(int64(2)))
	})

	It("carries another codec's values, given the server's codec", func() {
		decimal := lastmodhttp.Codec{
			ContentType: "text/plain",
			Marshal:     func(v any) ([]byte, error) { return []byte(strconv.Itoa(v.(int))), nil },
			Unmarshal: func(b []byte, v any) error {
				n, err := strconv.Atoi(string(b))
				*(v.(*int)) = n
				return err
			},
		}
		c := client(lastmodhttp.New[int](st, lastmodhttp.WithCodec(decimal)), lastmodhttp.WithClientCodec(decimal))
		events, err := c.Watch(GinkgoT().Context())
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Set("a", 1)).To(Succeed())
		Expect(c.SetMany(map[string]int{"b": 2, "c": 3})).To(Succeed())
		Expect(c.Get("a")).To(HaveField("Value", 1))
		got := must(c.GetMany([]string{"a", "b", "c"}))
		Expect(got).To(HaveLen(3))
		Expect(got["c"].Value).To(Equal(3))
		Expect(must(c.List())["b"].Value).To(Equal(2))
		Expect(receive(events, "the put of a").Item.Value).To(Equal(1))
		Expect(receive(events, "a put of the batch").Item.Value).To(BeNumerically(">=", 2))
	})

	Describe("Watch", func() {
		It("reconnects after a dropped connection and resumes after the last event it delivered: nothing lost, nothing twice", func(sctx SpecContext) {
			cut := newCutter(lastmodhttp.New[int](st))
			c := client(cut)
			events, err := c.Watch(sctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Set("a", 1)).To(Succeed())
			Expect(c.Set("b", 2)).To(Succeed())
			Expect(summary(receive(events, "the put of a"))).To(Equal("1 put a"))
			Expect(summary(receive(events, "the put of b"))).To(Equal("2 put b"))

			cut.cut()
			var lastID string
			Eventually(cut.reconnects).Should(Receive(&lastID), "the watch to reconnect")
			Expect(lastID).To(Equal("1"), "the revision before the last event's, which is skipped when it comes again")
			// Meanwhile the store changes.
			Expect(c.Set("c", 3)).To(Succeed())
			Expect(c.Delete("a")).To(Succeed())
			Expect(c.Clear()).To(Succeed())
			cut.resume()

			Expect(summary(receive(events, "the put of c, missed"))).To(Equal("3 put c"))
			Expect(summary(receive(events, "the delete of a, missed"))).To(Equal("4 delete a"))
			Expect(summary(receive(events, "the clear, missed"))).To(Equal("5 clear"))
			Expect(c.Set("d", 4)).To(Succeed())
			ev := receive(events, "the put of d, live")
			Expect(summary(ev)).To(Equal("6 put d"))
			Expect(ev.Item).To(Equal(must(c.Get("d"))))
			Consistently(events).WithTimeout(50 * time.Millisecond).ShouldNot(Receive())
		}, SpecTimeout(30*time.Second))

		It("ends with a *CompactedError when the history no longer holds the changes after its last event", func(sctx SpecContext) {
			cut := newCutter(lastmodhttp.New[int](st))
			c := client(cut)
			events, err := c.Watch(sctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Set("a", 0)).To(Succeed())
			Expect(summary(receive(events, "the first put"))).To(Equal("1 put a"))
			cut.cut()
			Eventually(cut.reconnects).Should(Receive(Equal("0")), "the watch to reconnect")
			for i := range 20 { // more than the history of 8 holds
				Expect(c.Set("a", i)).To(Succeed())
			}
			cut.resume()
			ev := receive(events, "the watch's end")
			Expect(ev.Kind).To(Equal(store.EventEnd))
			Expect(ev.Err).To(MatchError(store.ErrCompacted))
			var ce *store.CompactedError
			Expect(errors.As(ev.Err, &ce)).To(BeTrue())
			Expect(ce.Oldest).To(Equal(uint64(13)))
			Eventually(events).Should(BeClosed())
		}, SpecTimeout(30*time.Second))

		It("resumes a write of several keys that share one revision whole, when the connection dropped between its events", func(sctx SpecContext) {
			// A transaction's events, as etcdstore's SetMany gives them.
			events := []store.Event[string, int]{
				{Kind: store.EventPut, Key: "a", Revision: 1},
				{Kind: store.EventPut, Key: "b", Revision: 2},
				{Kind: store.EventPut, Key: "c", Revision: 2},
				{Kind: store.EventPut, Key: "d", Revision: 2},
				{Kind: store.EventPut, Key: "e", Revision: 3},
			}
			for i := range events {
				events[i].Item = &store.Item[int]{Value: i, Revision: events[i].Revision, LastModified: time.Unix(int64(i), 0).UTC()}
			}
			cut := newCutter(lastmodhttp.New[int](scripted{Backend: st, events: events, live: 3}))
			c := client(cut)
			watch, err := c.Watch(sctx)
			Expect(err).NotTo(HaveOccurred())
			for _, want := range []string{"1 put a", "2 put b", "2 put c"} {
				Expect(summary(receive(watch, want))).To(Equal(want))
			}
			cut.cut()
			Eventually(cut.reconnects).Should(Receive(Equal("1")), "the watch to reconnect")
			cut.resume()
			Expect(summary(receive(watch, "d, the rest of revision 2"))).To(Equal("2 put d"))
			Expect(summary(receive(watch, "e"))).To(Equal("3 put e"))
			Consistently(watch).WithTimeout(50 * time.Millisecond).ShouldNot(Receive())
		}, SpecTimeout(30*time.Second))

		It("ends with ErrWatchLost when its connection drops before its first event", func(sctx SpecContext) {
			cut := newCutter(lastmodhttp.New[int](st))
			c := client(cut)
			events, err := c.Watch(sctx)
			Expect(err).NotTo(HaveOccurred())
			cut.cut()
			ev := receive(events, "the watch's end")
			Expect(ev.Kind).To(Equal(store.EventEnd))
			Expect(ev.Err).To(MatchError(lastmodhttp.ErrWatchLost))
			Eventually(events).Should(BeClosed())
		}, SpecTimeout(30*time.Second))

		It("gives up reconnecting after WithTimeout, ending with the last answer", func(sctx SpecContext) {
			cut := newCutter(lastmodhttp.New[int](st))
			c := client(cut, lastmodhttp.WithTimeout(200*time.Millisecond))
			events, err := c.WatchFrom(sctx, 0)
			Expect(err).NotTo(HaveOccurred())
			cut.answerHeld(http.StatusBadGateway)
			cut.cut()
			Eventually(cut.reconnects).Should(Receive(Equal("0")), "the watch to reconnect")
			Eventually(cut.reconnects).Should(Receive(Equal("0")), "the watch to try again after a 502")
			ev := receive(events, "the watch's end")
			Expect(ev.Kind).To(Equal(store.EventEnd))
			var se *lastmodhttp.StatusError
			Expect(errors.As(ev.Err, &se)).To(BeTrue(), "%v", ev.Err)
			Expect(se.StatusCode).To(Equal(http.StatusBadGateway))
			Eventually(events).Should(BeClosed())
		}, SpecTimeout(30*time.Second))

		It("ends with ErrNotRunning when the server's store stops", func(sctx SpecContext) {
			c := client(lastmodhttp.New[int](st))
			events, err := c.Watch(sctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Shutdown()).To(Succeed())
			ev := receive(events, "the watch's end")
			Expect(ev.Kind).To(Equal(store.EventEnd))
			Expect(ev.Err).To(MatchError(store.ErrNotRunning))
			Eventually(events).Should(BeClosed())
			Expect(c.Watch(sctx)).Error().To(MatchError(store.ErrNotRunning))
		}, SpecTimeout(30*time.Second))

		It("ends with ctx's error when ctx ends, and with ErrClosed at Close", func(sctx SpecContext) {
			c := client(lastmodhttp.New[int](st))
			ctx, cancel := context.WithCancel(sctx)
			first, err := c.Watch(ctx)
			Expect(err).NotTo(HaveOccurred())
			second, err := c.WatchFrom(sctx, 0)
			Expect(err).NotTo(HaveOccurred())
			cancel()
			ev := receive(first, "the first watch's end")
			Expect(ev.Kind).To(Equal(store.EventEnd))
			Expect(ev.Err).To(MatchError(context.Canceled))
			Eventually(first).Should(BeClosed())

			Expect(c.Close()).To(Succeed())
			ev = receive(second, "the second watch's end")
			Expect(ev.Err).To(MatchError(lastmodhttp.ErrClosed))
			Expect(second).To(BeClosed(), "Close waited for the watch")
			var nilCtx context.Context
			Expect(c.Watch(nilCtx)).Error().To(MatchError(lastmodhttp.ErrClosed))
		}, SpecTimeout(30*time.Second))

		It("refuses a nil or done context", func() {
			c := client(lastmodhttp.New[int](st))
			var nilCtx context.Context
			Expect(c.Watch(nilCtx)).Error().To(MatchError(store.ErrNilContext))
			ctx, cancel := context.WithCancel(GinkgoT().Context())
			cancel()
			Expect(c.WatchFrom(ctx, 0)).Error().To(MatchError(context.Canceled))
		})
	})

	Describe("WatchFrom", func() {
		It("replays the changes after the revision, then goes on live", func(sctx SpecContext) {
			c := client(lastmodhttp.New[int](st))
			Expect(c.Set("a", 1)).To(Succeed())
			Expect(c.Set("b", 2)).To(Succeed())
			Expect(c.Delete("a")).To(Succeed())
			events, err := c.WatchFrom(sctx, 1)
			Expect(err).NotTo(HaveOccurred())
			Expect(summary(receive(events, "b, replayed"))).To(Equal("2 put b"))
			Expect(summary(receive(events, "a's delete, replayed"))).To(Equal("3 delete a"))
			Expect(c.SetWithTTL("c", 3, time.Hour)).To(Succeed())
			ev := receive(events, "c, live")
			Expect(ev.Item).To(Equal(must(c.Get("c"))))
		}, SpecTimeout(30*time.Second))

		It("returns the store's errors when it cannot resume as asked", func(sctx SpecContext) {
			c := client(lastmodhttp.New[int](st))
			for i := range 20 {
				Expect(c.Set("a", i)).To(Succeed())
			}
			_, err := c.WatchFrom(sctx, 1)
			var ce *store.CompactedError
			Expect(errors.As(err, &ce)).To(BeTrue(), "%v", err)
			Expect(ce.Oldest).To(Equal(uint64(12)))
			Expect(c.WatchFrom(sctx, 99)).Error().To(MatchError(store.ErrFutureRevision))

			cannot := client(lastmodhttp.New[int](struct {
				lastmodhttp.Backend[int]
				lastmodhttp.Watcher[int]
			}{st, st}))
			Expect(cannot.WatchFrom(sctx, 1)).Error().To(MatchError(errors.ErrUnsupported))
			events, err := cannot.Watch(sctx)
			Expect(err).NotTo(HaveOccurred(), "a live stream it can give")
			Expect(c.Set("a", 0)).To(Succeed())
			Expect(summary(receive(events, "the put"))).To(Equal("21 put a"))
		}, SpecTimeout(30*time.Second))
	})
})

// scripted is a Backend whose change stream is a script: Watch sends the
// first live events, WatchFrom those after a revision, each then waits
// for its ctx.
type scripted struct {
	lastmodhttp.Backend[int]
	events []store.Event[string, int]
	live   int
}

func (s scripted) Watch(ctx context.Context) (<-chan store.Event[string, int], error) {
	return s.send(ctx, s.events[:s.live]), nil
}

func (s scripted) WatchFrom(ctx context.Context, revision uint64) (<-chan store.Event[string, int], error) {
	var after []store.Event[string, int]
	for _, ev := range s.events {
		if ev.Revision > revision {
			after = append(after, ev)
		}
	}
	return s.send(ctx, after), nil
}

// send returns a channel with events, closed once ctx ends.
func (scripted) send(ctx context.Context, events []store.Event[string, int]) <-chan store.Event[string, int] {
	ch := make(chan store.Event[string, int], len(events))
	for _, ev := range events {
		ch <- ev
	}
	context.AfterFunc(ctx, func() { close(ch) })
	return ch
}

// roundTripper is a function that is an http.RoundTripper.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func errOf[T any](_ T, err error) error { return err }

func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}

// unavailableBackend is a Backend whose every call fails with err, as a
// store over a cluster without a quorum does.
type unavailableBackend struct{ err error }

func (b unavailableBackend) Get(string) (*store.Item[int], error) { return nil, b.err }
func (b unavailableBackend) Delete(string) error                  { return b.err }
func (b unavailableBackend) List() (map[string]*store.Item[int], error) {
	return nil, b.err
}
func (b unavailableBackend) CompareAndSet(string, int, uint64) (*store.Item[int], error) {
	return nil, b.err
}
func (b unavailableBackend) CompareAndDelete(string, uint64) error { return b.err }
