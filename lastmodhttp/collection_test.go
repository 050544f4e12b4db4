package lastmodhttp_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// plainBackend is a store seen through lastmodhttp.Backend alone: none of
// the optional methods the handler looks for.
type plainBackend struct{ lastmodhttp.Backend[any] }

var _ = Describe("the handler's methods beyond one key", func() {
	var (
		ignore goleak.Option
		st     *store.Store[string, any]
		srv    *server
	)
	BeforeEach(func() {
		ignore = goleak.IgnoreCurrent()
		st = startStore[any](store.Config{MaxSize: 4})
		srv = newServer(lastmodhttp.New[any](st))
	})
	AfterEach(func() {
		srv.close()
		_ = st.Shutdown()
		Expect(goleak.Find(ignore)).To(Succeed())
	})

	nanos := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

	Describe("item headers", func() {
		It("carry LastModified and ExpiresAt to the nanosecond beside the HTTP date", func() {
			Expect(st.SetWithTTL("k", 1.0, time.Hour)).To(Succeed())
			item := mustGet(st, "k")
			for _, m := range []string{"GET", "HEAD"} {
				r := srv.do(m, "/kv/k", "")
				Expect(r.header.Get("Lastmod-Last-Modified")).To(Equal(nanos(item.LastModified)), m)
				Expect(r.header.Get("Lastmod-Expires")).To(Equal(nanos(item.ExpiresAt)), m)
			}
			Expect(st.Set("forever", 1.0)).To(Succeed())
			r := srv.do("GET", "/kv/forever", "")
			Expect(r.header.Values("Lastmod-Expires")).To(BeEmpty(), "an item that never expires")
			r = srv.do("PUT", "/kv/k", "2", "If-Match", `"999"`)
			Expect(r.status).To(Equal(412))
			Expect(r.header.Get("Lastmod-Last-Modified")).To(Equal(nanos(item.LastModified)), "a 412 names the current item exactly")
			Expect(r.header.Get("Lastmod-Error")).To(Equal("precondition-failed"))
		})
	})

	Describe("PUT with Lastmod-TTL", func() {
		It("writes the item with that time-to-live, created 201 and replaced 200", func() {
			r := srv.do("PUT", "/kv/k", "1", "Lastmod-TTL", "1h30m")
			Expect(r.status).To(Equal(http.StatusCreated))
			item := mustGet(st, "k")
			Expect(item.ExpiresAt).To(Equal(item.LastModified.Add(90 * time.Minute)))
			Expect(r.header.Get("ETag")).To(Equal(`"` + strconv.FormatUint(item.Revision, 10) + `"`))
			Expect(r.header.Get("Lastmod-Expires")).To(Equal(nanos(item.ExpiresAt)))

			r = srv.do("PUT", "/kv/k", "2", "Lastmod-TTL", "0s")
			Expect(r.status).To(Equal(http.StatusOK))
			item = mustGet(st, "k")
			Expect(item.Value).To(Equal(2.0))
			Expect(item.ExpiresAt.IsZero()).To(BeTrue(), "0s: never expires")
		})

		It("expires the item when its time is up", func() {
			Expect(srv.do("PUT", "/kv/brief", "1", "Lastmod-TTL", "20ms").status).To(Equal(http.StatusCreated))
			Eventually(func() int { return srv.do("GET", "/kv/brief", "").status }).Should(Equal(http.StatusNotFound), "the item to expire")
		})

		It("writes only when the preconditions hold, evaluated in the write's own step", func() {
			Expect(st.Set("k", 1.0)).To(Succeed())
			cur := mustGet(st, "k")
			etag := `"` + strconv.FormatUint(cur.Revision, 10) + `"`
			for _, headers := range [][]string{
				{"If-Match", `"999"`},
				{"If-None-Match", "*"},
				{"If-Unmodified-Since", cur.LastModified.Add(-time.Hour).UTC().Format(http.TimeFormat)},
			} {
				r := srv.do("PUT", "/kv/k", "5", append([]string{"Lastmod-TTL", "1m"}, headers...)...)
				Expect(r.status).To(Equal(http.StatusPreconditionFailed), "%v", headers)
				Expect(r.header.Get("ETag")).To(Equal(etag), "%v", headers)
			}
			Expect(mustGet(st, "k")).To(Equal(cur), "nothing written")
			r := srv.do("PUT", "/kv/absent", "5", "Lastmod-TTL", "1m", "If-Match", "*")
			Expect(r.status).To(Equal(http.StatusPreconditionFailed))
			Expect(r.header.Values("ETag")).To(BeEmpty())

			Expect(srv.do("PUT", "/kv/k", "6", "Lastmod-TTL", "1m", "If-Match", etag).status).To(Equal(http.StatusOK))
			Expect(mustGet(st, "k").Value).To(Equal(6.0))
			Expect(srv.do("PUT", "/kv/new", "7", "Lastmod-TTL", "1m", "If-None-Match", "*").status).To(Equal(http.StatusCreated))
		})

		DescribeTable("refuses a TTL that is not a duration, or negative, with 400 invalid-ttl, writing nothing",
			func(ttl string) {
				r := srv.do("PUT", "/kv/k", "1", "Lastmod-TTL", ttl)
				Expect(r.status).To(Equal(http.StatusBadRequest))
				Expect(r.header.Get("Lastmod-Error")).To(Equal("invalid-ttl"))
				Expect(r.body).To(ContainSubstring("Lastmod-TTL"))
				Expect(st.Get("k")).Error().To(MatchError(store.ErrNotFound))
			},
			Entry("seconds without a unit", "30"),
			Entry("a word", "soon"),
			Entry("negative", "-1s"),
			Entry("the most negative", "-2562047h47m16.854775808s"),
			Entry("past the largest", "2562048h"),
		)

		It("answers 507 when the new key does not fit, 503 when the store is stopped", func() {
			for i := range 4 {
				Expect(st.Set(strconv.Itoa(i), 1.0)).To(Succeed())
			}
			r := srv.do("PUT", "/kv/more", "1", "Lastmod-TTL", "1m")
			Expect(r.status).To(Equal(http.StatusInsufficientStorage))
			Expect(r.header.Get("Lastmod-Error")).To(Equal("store-full"))
			Expect(st.Shutdown()).To(Succeed())
			r = srv.do("PUT", "/kv/0", "1", "Lastmod-TTL", "1m")
			Expect(r.status).To(Equal(http.StatusServiceUnavailable))
			Expect(r.header.Get("Lastmod-Error")).To(Equal("not-running"))
		})
	})

	Describe("POST / (a batch)", func() {
		It(`reads several keys at one instant with {"get": […]}, answering as the listing does`, func() {
			Expect(st.SetWithTTL("a", 1.0, time.Hour)).To(Succeed())
			Expect(st.Set("b", map[string]any{"x": true})).To(Succeed())
			a, b := mustGet(st, "a"), mustGet(st, "b")
			before, err := st.Stats()
			Expect(err).NotTo(HaveOccurred())
			r := srv.do("POST", "/kv/", `{"get": ["a", "missing", "b", "a"]}`)
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.header.Get("Content-Type")).To(Equal("application/json"))
			Expect(r.body).To(MatchJSON(`{
				"a": {"value": 1, "revision": ` + strconv.FormatUint(a.Revision, 10) + `, "lastModified": "` + nanos(a.LastModified) + `", "expiresAt": "` + nanos(a.ExpiresAt) + `"},
				"b": {"value": {"x": true}, "revision": ` + strconv.FormatUint(b.Revision, 10) + `, "lastModified": "` + nanos(b.LastModified) + `"}
			}`))
			after, err := st.Stats()
			Expect(err).NotTo(HaveOccurred())
			Expect(after.Hits-before.Hits).To(Equal(uint64(3)), "one GetMany of four keys: three hits")
			Expect(after.Misses - before.Misses).To(Equal(uint64(1)))
			Expect(srv.do("POST", "/kv/", `{"get": []}`).body).To(Equal("{}"))
		})

		It(`writes several items all or nothing with {"set": {…}}, answering 204`, func() {
			Expect(st.Set("a", 1.0)).To(Succeed())
			r := srv.do("POST", "/kv/", `{"set": {"a": 10, "b": {"x": [1, 2]}, "c/d": "e"}}`)
			Expect(r.status).To(Equal(http.StatusNoContent))
			Expect(mustGet(st, "a").Value).To(Equal(10.0))
			Expect(mustGet(st, "b").Value).To(Equal(map[string]any{"x": []any{1.0, 2.0}}))
			Expect(mustGet(st, "c/d").Value).To(Equal("e"))

			By("a batch whose new keys do not fit: 507, nothing written")
			r = srv.do("POST", "/kv/", `{"set": {"a": 11, "x": 1, "y": 2}}`)
			Expect(r.status).To(Equal(http.StatusInsufficientStorage))
			Expect(mustGet(st, "a").Value).To(Equal(10.0))
			Expect(st.Get("x")).Error().To(MatchError(store.ErrNotFound))
			Expect(srv.do("POST", "/kv/", `{"set": {}}`).status).To(Equal(http.StatusNoContent))
		})

		DescribeTable("refuses a malformed batch with 400, writing nothing",
			func(body, code, says string) {
				r := srv.do("POST", "/kv/", body)
				Expect(r.status).To(Equal(http.StatusBadRequest))
				Expect(r.header.Get("Lastmod-Error")).To(Equal(code))
				Expect(r.body).To(ContainSubstring(says))
				Expect(st.Size()).To(BeZero())
			},
			Entry("not JSON", `{"set":`, "bad-request", "cannot decode the batch"),
			Entry("neither get nor set", `{}`, "bad-request", `{"get": [keys…]}`),
			Entry("a null get", `{"get": null}`, "bad-request", `{"get": [keys…]}`),
			Entry("both", `{"get": [], "set": {}}`, "bad-request", `{"get": [keys…]}`),
			Entry("an unknown field", `{"put": {"a": 1}}`, "bad-request", "unknown field"),
			Entry("more after the object", `{"set": {"a": 1}} {"set": {"b": 2}}`, "bad-request", "more after its object"),
			Entry("a value that does not decode", `{"set": {"a": 1, "b": }}`, "bad-request", "cannot decode"),
			Entry("an empty key to write", `{"set": {"": 1, "a": 2}}`, "invalid-key", "empty key"),
			Entry("an empty key to read", `{"get": ["a", ""]}`, "invalid-key", "empty key"),
			Entry("a key over the limit", `{"get": ["`+strings.Repeat("k", lastmodhttp.DefaultMaxKeyBytes+1)+`"]}`, "invalid-key", "longer than"),
		)

		It("bounds the batch's body by WithMaxBodyBytes: 413", func() {
			small := newServer(lastmodhttp.New[any](st, lastmodhttp.WithMaxBodyBytes(16)))
			defer small.close()
			r := small.do("POST", "/kv/", `{"set": {"a": 1, "b": 2, "c": 3}}`)
			Expect(r.status).To(Equal(http.StatusRequestEntityTooLarge))
			Expect(r.header.Get("Lastmod-Error")).To(Equal("too-large"))
			Expect(st.Size()).To(BeZero())
		})

		It("carries another codec's values as base64 strings of their bytes, both ways", func() {
			text := lastmodhttp.Codec{
				ContentType: "text/plain",
				Marshal:     func(v any) ([]byte, error) { return []byte(v.(string)), nil },
				Unmarshal: func(b []byte, v any) error {
					*(v.(*any)) = string(b)
					return nil
				},
			}
			tsrv := newServer(lastmodhttp.New[any](st, lastmodhttp.WithCodec(text)))
			defer tsrv.close()
			Expect(tsrv.do("POST", "/kv/", `{"set": {"k": "cGxhaW4gd29yZHM="}}`).status).To(Equal(http.StatusNoContent))
			Expect(mustGet(st, "k").Value).To(Equal("plain words"))
			Expect(tsrv.do("POST", "/kv/", `{"get": ["k"]}`).body).To(ContainSubstring(`"value":"cGxhaW4gd29yZHM="`))
			r := tsrv.do("POST", "/kv/", `{"set": {"k": "not base64!"}}`)
			Expect(r.status).To(Equal(http.StatusBadRequest))
			Expect(r.body).To(ContainSubstring(`cannot decode the value of "k"`))
		})
	})

	Describe("DELETE / (Clear)", func() {
		It("clears the store with If-Match: *, answering 204", func() {
			Expect(st.Set("a", 1.0)).To(Succeed())
			Expect(st.Set("b", 2.0)).To(Succeed())
			Expect(srv.do("DELETE", "/kv/", "", "If-Match", "*").status).To(Equal(http.StatusNoContent))
			Expect(st.Size()).To(BeZero())
		})

		DescribeTable("clears nothing without If-Match: *",
			func(want int, code string, headers ...string) {
				Expect(st.Set("a", 1.0)).To(Succeed())
				r := srv.do("DELETE", "/kv/", "", headers...)
				Expect(r.status).To(Equal(want))
				Expect(r.header.Get("Lastmod-Error")).To(Equal(code))
				Expect(st.Size()).To(Equal(1))
			},
			Entry("no precondition: 428", http.StatusPreconditionRequired, "precondition-required"),
			Entry("an entity-tag: 412", http.StatusPreconditionFailed, "precondition-failed", "If-Match", `"1"`),
			Entry("a malformed If-Match: 412", http.StatusPreconditionFailed, "precondition-failed", "If-Match", `nope`),
			Entry("If-None-Match: *: 412", http.StatusPreconditionFailed, "precondition-failed", "If-None-Match", "*"),
			Entry("If-Match: * with If-Unmodified-Since: 412", http.StatusPreconditionFailed, "precondition-failed",
				"If-Match", "*", "If-Unmodified-Since", "Mon, 07 Dec 2026 02:35:51 GMT"),
			Entry("a malformed If-None-Match: 400", http.StatusBadRequest, "bad-request", "If-None-Match", `"open`),
		)

		It("answers 503 when the store is stopped", func() {
			Expect(st.Shutdown()).To(Succeed())
			r := srv.do("DELETE", "/kv/", "", "If-Match", "*")
			Expect(r.status).To(Equal(http.StatusServiceUnavailable))
			Expect(r.header.Get("Lastmod-Error")).To(Equal("not-running"))
		})
	})

	Describe("GET /?size and GET /?stats", func() {
		It("answer the store's Size and Stats as JSON", func() {
			Expect(st.Set("a", 1.0)).To(Succeed())
			Expect(st.Set("b", 1.0)).To(Succeed())
			_, _ = st.Get("a")
			_, _ = st.Get("zz")
			r := srv.do("GET", "/kv/?size", "")
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.header.Get("Content-Type")).To(Equal("application/json"))
			Expect(r.body).To(MatchJSON(`{"size": 2}`))
			r = srv.do("GET", "/kv/?stats", "")
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.body).To(MatchJSON(`{"hits": 1, "misses": 1, "writes": 2, "deletes": 0, "expirations": 0,
				"evictions": 0, "restarts": 0, "items": 2, "watchers": 0, "mailbox": 0, "pending": 0,
				"dropped": 0, "loads": 0, "loadErrors": 0, "waiting": 0, "revision": 2, "oldestRevision": 0}`))
			h := srv.do("HEAD", "/kv/?stats", "")
			Expect(h.status).To(Equal(http.StatusOK))
			Expect(h.body).To(BeEmpty())
		})

		It("refuses to answer two questions at once", func() {
			for _, q := range []string{"?size&stats", "?stats&modified-since=2000-01-01T00:00:00Z", "?size&modified-since="} {
				Expect(srv.do("GET", "/kv/"+q, "").status).To(Equal(http.StatusBadRequest), q)
			}
		})

		It("answer 503 when the store is stopped", func() {
			Expect(st.Shutdown()).To(Succeed())
			Expect(srv.do("GET", "/kv/?size", "").status).To(Equal(http.StatusServiceUnavailable))
			Expect(srv.do("GET", "/kv/?stats", "").status).To(Equal(http.StatusServiceUnavailable))
		})
	})

	It("answers 501 naming what a Backend without the optional methods lacks, and counts its List for ?size", func() {
		Expect(st.Set("a", 1.0)).To(Succeed())
		psrv := newServer(lastmodhttp.New[any](plainBackend{st}))
		defer psrv.close()
		for _, tt := range []struct {
			method, path, body, names string
			headers                   []string
		}{
			{"PUT", "/kv/k", "1", "UpdateWithTTL", []string{"Lastmod-TTL", "1m"}},
			{"POST", "/kv/", `{"get": ["a"]}`, "GetMany", nil},
			{"POST", "/kv/", `{"set": {"a": 2}}`, "SetMany", nil},
			{"DELETE", "/kv/", "", "Clear", []string{"If-Match", "*"}},
			{"GET", "/kv/?stats", "", "Stats", nil},
			{"GET", "/kv/", "", "Watch", []string{"Accept", "text/event-stream"}},
		} {
			r := psrv.do(tt.method, tt.path, tt.body, tt.headers...)
			Expect(r.status).To(Equal(http.StatusNotImplemented), tt.names)
			Expect(r.header.Get("Lastmod-Error")).To(Equal("not-implemented"), tt.names)
			Expect(r.body).To(ContainSubstring("("+tt.names+")"), tt.names)
		}
		Expect(mustGet(st, "a").Value).To(Equal(1.0), "nothing written")
		Expect(psrv.do("GET", "/kv/?size", "").body).To(MatchJSON(`{"size": 1}`))
	})

	It("names each error in Lastmod-Error, so a client tells two of one status apart", func() {
		for _, tt := range []struct {
			method, path, body string
			headers            []string
			status             int
			code               string
		}{
			{"GET", "/kv/missing", "", nil, 404, "not-found"},
			{"GET", "/kv/%FF", "", nil, 400, "invalid-key"},
			{"PUT", "/kv/k", "{", nil, 400, "bad-request"},
			{"PUT", "/kv/k", "1", []string{"If-Match", `"9"`}, 412, "precondition-failed"},
			{"PATCH", "/kv/k", "1", nil, 405, "method-not-allowed"},
		} {
			r := srv.do(tt.method, tt.path, tt.body, tt.headers...)
			Expect(r.status).To(Equal(tt.status), tt.path)
			Expect(r.header.Get("Lastmod-Error")).To(Equal(tt.code), tt.path)
		}
		var listing map[string]json.RawMessage
		r := srv.do("GET", "/kv/", "")
		Expect(json.Unmarshal([]byte(r.body), &listing)).To(Succeed())
		Expect(r.header.Values("Lastmod-Error")).To(BeEmpty(), "a success names no error")
	})
})
