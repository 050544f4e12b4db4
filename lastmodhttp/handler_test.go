package lastmodhttp_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
)

var _ = Describe("the handler", func() {
	var (
		ignore goleak.Option
		st     *store.Store[string, any]
		srv    *server
	)
	BeforeEach(func() {
		ignore = goleak.IgnoreCurrent()
		st = startStore[any](store.Config{})
		srv = newServer(lastmodhttp.New[any](st))
	})
	AfterEach(func() {
		srv.close()
		_ = st.Shutdown()
		Expect(goleak.Find(ignore)).To(Succeed())
	})

	// put writes v under key through the store and returns the item.
	put := func(key string, v any) *store.Item[any] {
		Expect(st.Set(key, v)).To(Succeed())
		item, err := st.Get(key)
		Expect(err).NotTo(HaveOccurred())
		return item
	}
	etag := func(item *store.Item[any]) string { return `"` + strconv.FormatUint(item.Revision, 10) + `"` }
	httpDate := func(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

	Describe("GET and HEAD of a key", func() {
		It("answers the value with a strong ETag and Last-Modified", func() {
			item := put("greeting", map[string]any{"hello": "world"})
			r := srv.do("GET", "/kv/greeting", "")
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.body).To(MatchJSON(`{"hello":"world"}`))
			Expect(r.header.Get("Content-Type")).To(Equal("application/json"))
			Expect(r.header.Get("ETag")).To(Equal(etag(item)))
			Expect(r.header.Get("Last-Modified")).To(Equal(httpDate(item.LastModified)))

			h := srv.do("HEAD", "/kv/greeting", "")
			Expect(h.status).To(Equal(http.StatusOK))
			Expect(h.body).To(BeEmpty())
			Expect(h.header.Get("ETag")).To(Equal(etag(item)))
			Expect(h.header.Get("Content-Length")).To(Equal(strconv.Itoa(len(`{"hello":"world"}`))))
		})

		It("answers 404 for a missing key and for an expired one", func() {
			Expect(srv.do("GET", "/kv/nope", "").status).To(Equal(http.StatusNotFound))
			Expect(st.SetWithTTL("brief", 1, time.Millisecond)).To(Succeed())
			Eventually(func() int { return srv.do("GET", "/kv/brief", "").status }).Should(Equal(http.StatusNotFound))
		})

		It("unescapes the key and keeps its slashes", func() {
			put("a b/c", 1.0)
			Expect(srv.do("GET", "/kv/a%20b/c", "").body).To(Equal("1"))
		})

		It("answers by the preconditions in RFC 9110 §13.2.2's order", func() {
			item := put("k", "v")
			cur, lm := etag(item), httpDate(item.LastModified)
			later := httpDate(item.LastModified.Add(time.Hour))
			earlier := httpDate(item.LastModified.Add(-time.Hour))
			tests := []struct {
				name    string
				headers []string
				want    int
			}{
				{"If-None-Match current", []string{"If-None-Match", cur}, 304},
				{"If-None-Match in a list", []string{"If-None-Match", `"999", ` + cur}, 304},
				{"If-None-Match over two lines", []string{"If-None-Match", `"999"`, "If-None-Match", cur}, 304},
				{"If-None-Match weak matches (weak comparison)", []string{"If-None-Match", "W/" + cur}, 304},
				{"If-None-Match *", []string{"If-None-Match", "*"}, 304},
				{"If-None-Match other", []string{"If-None-Match", `"999"`}, 200},
				{"If-Modified-Since Last-Modified", []string{"If-Modified-Since", lm}, 304},
				{"If-Modified-Since later", []string{"If-Modified-Since", later}, 304},
				{"If-Modified-Since earlier", []string{"If-Modified-Since", earlier}, 200},
				{"If-Modified-Since malformed is ignored", []string{"If-Modified-Since", "yesterday"}, 200},
				{"If-None-Match beats If-Modified-Since", []string{"If-None-Match", `"999"`, "If-Modified-Since", lm}, 200},
				{"If-Match other", []string{"If-Match", `"999"`}, 412},
				{"If-Match weak never matches (strong comparison)", []string{"If-Match", "W/" + cur}, 412},
				{"If-Match current", []string{"If-Match", cur}, 200},
				{"If-Match malformed", []string{"If-Match", "nope"}, 412},
				{"If-Match then If-None-Match", []string{"If-Match", cur, "If-None-Match", cur}, 304},
				{"If-Unmodified-Since earlier", []string{"If-Unmodified-Since", earlier}, 412},
				{"If-Unmodified-Since Last-Modified: written within that second", []string{"If-Unmodified-Since", lm}, 412},
				{"If-Unmodified-Since later", []string{"If-Unmodified-Since", later}, 200},
				{"If-Match beats If-Unmodified-Since", []string{"If-Match", cur, "If-Unmodified-Since", earlier}, 200},
				{"If-Unmodified-Since malformed is ignored", []string{"If-Unmodified-Since", "soon"}, 200},
				{"If-Unmodified-Since fails before If-None-Match", []string{"If-Unmodified-Since", earlier, "If-None-Match", cur}, 412},
				{"If-None-Match malformed", []string{"If-None-Match", `"unterminated`}, 400},
			}
			for _, tt := range tests {
				r := srv.do("GET", "/kv/k", "", tt.headers...)
				Expect(r.status).To(Equal(tt.want), tt.name)
				if tt.want == 304 || tt.want == 200 {
					Expect(r.header.Get("ETag")).To(Equal(cur), tt.name)
					Expect(r.header.Get("Last-Modified")).To(Equal(lm), tt.name)
				}
				if tt.want == 304 {
					Expect(r.body).To(BeEmpty(), tt.name)
				}
			}
		})

		It("answers 304 to a HEAD too, and If-Match on a missing key with 412", func() {
			item := put("k", "v")
			Expect(srv.do("HEAD", "/kv/k", "", "If-None-Match", etag(item)).status).To(Equal(304))
			Expect(srv.do("GET", "/kv/none", "", "If-Match", "*").status).To(Equal(412))
			Expect(srv.do("GET", "/kv/none", "", "If-None-Match", "*").status).To(Equal(404))
		})
	})

	Describe("PUT", func() {
		It("creates with 201 and updates with 200, answering the written item's validators", func() {
			r := srv.do("PUT", "/kv/k", `{"n":1}`)
			Expect(r.status).To(Equal(http.StatusCreated))
			item, err := st.Get("k")
			Expect(err).NotTo(HaveOccurred())
			Expect(r.header.Get("ETag")).To(Equal(etag(item)))
			Expect(r.header.Get("Last-Modified")).To(Equal(httpDate(item.LastModified)))

			r = srv.do("PUT", "/kv/k", `{"n":2}`)
			Expect(r.status).To(Equal(http.StatusOK))
			item2, _ := st.Get("k")
			Expect(item2.Value).To(Equal(map[string]any{"n": 2.0}))
			Expect(r.header.Get("ETag")).To(Equal(etag(item2)))
			Expect(item2.Revision).To(BeNumerically(">", item.Revision))
		})

		It("writes only when its preconditions hold, else 412 with the current ETag", func() {
			item := put("k", "v0")
			cur, lm := etag(item), httpDate(item.LastModified)
			earlier := httpDate(item.LastModified.Add(-time.Hour))
			tests := []struct {
				name    string
				key     string
				headers []string
				want    int
			}{
				{"If-Match other", "k", []string{"If-Match", `"999"`}, 412},
				{"If-Match weak", "k", []string{"If-Match", "W/" + cur}, 412},
				{"If-Match malformed", "k", []string{"If-Match", `"1`}, 412},
				{"If-Match * on a missing key", "missing", []string{"If-Match", "*"}, 412},
				{"If-Match on a missing key", "missing", []string{"If-Match", `"1"`}, 412},
				{"If-None-Match * on a present key", "k", []string{"If-None-Match", "*"}, 412},
				{"If-None-Match current", "k", []string{"If-None-Match", cur}, 412},
				{"If-Unmodified-Since earlier", "k", []string{"If-Unmodified-Since", earlier}, 412},
				{"If-Unmodified-Since on a missing key", "missing", []string{"If-Unmodified-Since", lm}, 412},
				{"If-Unmodified-Since fails even when If-None-Match would hold", "k", []string{"If-Unmodified-Since", earlier, "If-None-Match", `"999"`}, 412},
				{"If-Match holds but If-None-Match fails", "k", []string{"If-Match", cur, "If-None-Match", cur}, 412},
			}
			for _, tt := range tests {
				r := srv.do("PUT", "/kv/"+tt.key, `"changed"`, tt.headers...)
				Expect(r.status).To(Equal(tt.want), tt.name)
				if tt.key == "k" {
					Expect(r.header.Get("ETag")).To(Equal(cur), tt.name)
					Expect(r.header.Get("Last-Modified")).To(Equal(lm), tt.name)
				} else {
					Expect(r.header.Get("ETag")).To(BeEmpty(), tt.name)
				}
			}
			now, err := st.Get("k")
			Expect(err).NotTo(HaveOccurred())
			Expect(now.Revision).To(Equal(item.Revision), "nothing was written")
			_, err = st.Get("missing")
			Expect(err).To(MatchError(store.ErrNotFound))
		})

		It("writes when its preconditions hold", func() {
			item := put("k", "v0")
			r := srv.do("PUT", "/kv/k", `"v1"`, "If-Match", etag(item))
			Expect(r.status).To(Equal(200))
			item, _ = st.Get("k")
			Expect(item.Value).To(Equal("v1"))
			Expect(r.header.Get("ETag")).To(Equal(etag(item)))

			Expect(srv.do("PUT", "/kv/k", `"v2"`, "If-Match", `"1", `+etag(item)).status).To(Equal(200))
			Expect(srv.do("PUT", "/kv/k", `"v3"`, "If-Match", "*").status).To(Equal(200))
			item, _ = st.Get("k")
			Expect(srv.do("PUT", "/kv/k", `"v4"`, "If-Unmodified-Since", httpDate(item.LastModified.Add(time.Second))).status).To(Equal(200))
			Expect(srv.do("PUT", "/kv/k", `"v5"`, "If-Unmodified-Since", "garbage").status).To(Equal(200), "a malformed date is ignored")
			Expect(srv.do("PUT", "/kv/k", `"v6"`, "If-None-Match", `"999"`).status).To(Equal(200))
			Expect(srv.do("PUT", "/kv/new", `"n"`, "If-None-Match", "*").status).To(Equal(201))
			item, _ = st.Get("k")
			Expect(item.Value).To(Equal("v6"))
		})

		It("refuses bad input with 4xx and writes nothing", func() {
			Expect(srv.do("PUT", "/kv/k", `{"n":`).status).To(Equal(http.StatusBadRequest))
			Expect(srv.do("PUT", "/kv/k", "").status).To(Equal(http.StatusBadRequest))
			Expect(srv.do("PUT", "/kv/"+strings.Repeat("x", 1025), `1`).status).To(Equal(http.StatusBadRequest))
			Expect(srv.do("PUT", "/kv/"+strings.Repeat("x", 1024), `1`).status).To(Equal(http.StatusCreated))
			Expect(srv.do("PUT", "/kv/k", `"`+strings.Repeat("x", 1<<20)+`"`).status).To(Equal(http.StatusRequestEntityTooLarge))
			Expect(srv.do("PUT", "/kv/k", `1`, "If-None-Match", "W/").status).To(Equal(http.StatusBadRequest))
			_, err := st.Get("k")
			Expect(err).To(MatchError(store.ErrNotFound))
		})
	})

	Describe("DELETE", func() {
		It("deletes with 204, 404 when missing", func() {
			put("k", 1.0)
			Expect(srv.do("DELETE", "/kv/k", "").status).To(Equal(http.StatusNoContent))
			Expect(srv.do("DELETE", "/kv/k", "").status).To(Equal(http.StatusNotFound))
		})

		It("deletes only when its preconditions hold", func() {
			item := put("k", 1.0)
			earlier := httpDate(item.LastModified.Add(-time.Hour))
			for _, h := range [][]string{
				{"If-Match", `"999"`},
				{"If-Match", "bad"},
				{"If-None-Match", "*"},
				{"If-None-Match", etag(item)},
				{"If-Unmodified-Since", earlier},
			} {
				r := srv.do("DELETE", "/kv/k", "", h...)
				Expect(r.status).To(Equal(412), h[0]+": "+h[1])
				Expect(r.header.Get("ETag")).To(Equal(etag(item)))
			}
			Expect(srv.do("DELETE", "/kv/missing", "", "If-Match", "*").status).To(Equal(412))
			Expect(srv.do("DELETE", "/kv/missing", "", "If-None-Match", "*").status).To(Equal(404))
			Expect(srv.do("DELETE", "/kv/k", "", "If-Match", etag(item)).status).To(Equal(204))

			item = put("k", 2.0)
			Expect(srv.do("DELETE", "/kv/k", "", "If-Unmodified-Since", httpDate(item.LastModified.Add(time.Second))).status).To(Equal(204))
			item = put("k", 3.0)
			Expect(srv.do("DELETE", "/kv/k", "", "If-Match", etag(item), "If-Unmodified-Since", earlier).status).To(Equal(204),
				"If-Unmodified-Since is ignored when If-Match is present")
			_, err := st.Get("k")
			Expect(err).To(MatchError(store.ErrNotFound))
		})
	})

	Describe("If-Unmodified-Since", func() {
		// sameSecond runs round until one of its rounds wrote its two
		// versions within one second, as the date cannot tell apart: a
		// round that straddles a second boundary proves nothing and is
		// run again, on a key of its own.
		sameSecond := func(round func(key string) (first, second string)) {
			GinkgoHelper()
			for i := range 20 {
				first, second := round("k" + strconv.Itoa(i))
				if first == second {
					return
				}
			}
			Fail("20 rounds in a row straddled a second boundary")
		}

		It("refuses a PUT when another client wrote within the second of the date it sends", func() {
			sameSecond(func(key string) (string, string) {
				Expect(srv.do("PUT", "/kv/"+key, `"a's first"`).status).To(Equal(201))
				seen := srv.do("GET", "/kv/"+key, "")
				Expect(seen.status).To(Equal(200))
				b := srv.do("PUT", "/kv/"+key, `"b's"`)
				Expect(b.status).To(Equal(200))
				if b.header.Get("Last-Modified") != seen.header.Get("Last-Modified") {
					return seen.header.Get("Last-Modified"), b.header.Get("Last-Modified")
				}
				r := srv.do("PUT", "/kv/"+key, `"a's second"`, "If-Unmodified-Since", seen.header.Get("Last-Modified"))
				Expect(r.status).To(Equal(http.StatusPreconditionFailed), "a overwrote b's write it never saw")
				Expect(r.header.Get("ETag")).To(Equal(b.header.Get("ETag")))
				Expect(mustGet(st, key).Value).To(Equal("b's"))
				return "", ""
			})
		})

		It("refuses a DELETE when another client wrote within the second of the date it sends", func() {
			sameSecond(func(key string) (string, string) {
				Expect(srv.do("PUT", "/kv/"+key, `"a's"`).status).To(Equal(201))
				seen := srv.do("GET", "/kv/"+key, "")
				b := srv.do("PUT", "/kv/"+key, `"b's"`)
				if b.header.Get("Last-Modified") != seen.header.Get("Last-Modified") {
					return seen.header.Get("Last-Modified"), b.header.Get("Last-Modified")
				}
				r := srv.do("DELETE", "/kv/"+key, "", "If-Unmodified-Since", seen.header.Get("Last-Modified"))
				Expect(r.status).To(Equal(http.StatusPreconditionFailed), "a deleted b's write it never saw")
				Expect(mustGet(st, key).Value).To(Equal("b's"))
				return "", ""
			})
		})

		It("passes only for an item last modified before the second the date names", func() {
			item := put("k", "v0")
			lm := item.LastModified.Truncate(time.Second)
			for _, m := range []string{"PUT", "DELETE"} {
				r := srv.do(m, "/kv/k", `"v1"`, "If-Unmodified-Since", httpDate(lm))
				Expect(r.status).To(Equal(http.StatusPreconditionFailed),
					m+" with the item's own Last-Modified: another write in that second would carry the same date")
				Expect(r.header.Get("ETag")).To(Equal(etag(item)))
			}
			Expect(mustGet(st, "k").Revision).To(Equal(item.Revision), "nothing was written")
			Expect(srv.do("PUT", "/kv/k", `"v1"`, "If-Unmodified-Since", httpDate(lm.Add(time.Second))).status).To(Equal(http.StatusOK),
				"a date after the item's second")
			item = mustGet(st, "k")
			Expect(srv.do("DELETE", "/kv/k", "", "If-Unmodified-Since", httpDate(item.LastModified.Add(time.Second))).status).To(Equal(http.StatusNoContent))
		})
	})

	Describe("keys that are not valid UTF-8", func() {
		It("are refused with 400 on every method, and nothing is written", func() {
			for _, path := range []string{"/kv/%FF", "/kv/%FE", "/kv/a%C3", "/kv/ok/%80/b"} {
				for _, m := range []string{"PUT", "GET", "HEAD", "DELETE", "POST"} {
					r := srv.do(m, path, `1`)
					Expect(r.status).To(Equal(http.StatusBadRequest), "%s %s", m, path)
					if m != "HEAD" {
						Expect(r.body).To(ContainSubstring("not valid UTF-8"), "%s %s", m, path)
					}
				}
				Expect(srv.do("PUT", path, `1`, "If-None-Match", "*").status).To(Equal(http.StatusBadRequest), "%s", path)
			}
			Expect(st.Size()).To(Equal(0))
			Expect(srv.do("PUT", "/kv/%C3%A9t%C3%A9", `1`).status).To(Equal(http.StatusCreated), "UTF-8 beyond ASCII is fine")
			Expect(mustGet(st, "été").Value).To(Equal(1.0))
		})

		It("written by other means, are left out of the listing rather than listed as U+FFFD", func() {
			put("\xff", 1.0)
			put("\xfe", 2.0)
			ok := put("ok", 3.0)
			for _, path := range []string{"/kv/", "/kv/?modified-since=2000-01-01T00:00:00Z"} {
				r := srv.do("GET", path, "")
				Expect(r.status).To(Equal(200), path)
				Expect(r.body).NotTo(ContainSubstring(`\ufffd`), path)
				var listed map[string]json.RawMessage
				Expect(json.Unmarshal([]byte(r.body), &listed)).To(Succeed())
				Expect(listed).To(HaveLen(1), path)
				Expect(listed).To(HaveKey("ok"), path)
				Expect(listed["ok"]).To(ContainSubstring(`"revision":`+strconv.FormatUint(ok.Revision, 10)), path)
			}
		})
	})

	It("answers 405 with Allow for other methods", func() {
		r := srv.do("POST", "/kv/k", "1")
		Expect(r.status).To(Equal(http.StatusMethodNotAllowed))
		Expect(r.header.Get("Allow")).To(Equal("GET, HEAD, PUT, DELETE"))
		r = srv.do("PUT", "/kv/", "1")
		Expect(r.status).To(Equal(http.StatusMethodNotAllowed))
		Expect(r.header.Get("Allow")).To(Equal("GET, HEAD, POST, DELETE"))
		Expect(r.header.Get("Lastmod-Error")).To(Equal("method-not-allowed"))
	})

	It("answers 503 when the store is not running", func() {
		Expect(st.Shutdown()).To(Succeed())
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			Expect(srv.do(m, "/kv/k", "1").status).To(Equal(http.StatusServiceUnavailable), m)
		}
		Expect(srv.do("DELETE", "/kv/k", "", "If-Match", "*").status).To(Equal(http.StatusServiceUnavailable))
		Expect(srv.do("GET", "/kv/", "").status).To(Equal(http.StatusServiceUnavailable))
	})

	Describe("GET /", func() {
		It("lists every item, or those modified since a time", func() {
			a := put("a", 1.0)
			Eventually(func() bool { return time.Now().After(a.LastModified) }).Should(BeTrue())
			cut := time.Now()
			b := put("b", map[string]any{"x": true})
			r := srv.do("GET", "/kv/", "")
			Expect(r.status).To(Equal(200))
			var all map[string]struct {
				Value        json.RawMessage `json:"value"`
				Revision     uint64          `json:"revision"`
				LastModified time.Time       `json:"lastModified"`
			}
			Expect(json.Unmarshal([]byte(r.body), &all)).To(Succeed())
			Expect(all).To(HaveLen(2))
			Expect(all["a"].Revision).To(Equal(a.Revision))
			Expect(all["a"].LastModified.Equal(a.LastModified)).To(BeTrue())
			Expect(all["b"].Value).To(MatchJSON(`{"x":true}`))
			Expect(all["b"].Revision).To(Equal(b.Revision))

			for _, since := range []string{cut.Format(time.RFC3339Nano)} {
				r = srv.do("GET", "/kv/?modified-since="+since, "")
				Expect(r.status).To(Equal(200))
				Expect(r.body).To(ContainSubstring(`"b"`))
				Expect(r.body).NotTo(ContainSubstring(`"a"`))
			}
			Expect(srv.do("GET", "/kv/?modified-since="+strings.ReplaceAll(httpDate(a.LastModified.Add(-time.Hour)), " ", "%20"), "").body).To(ContainSubstring(`"a"`))
			Expect(srv.do("GET", "/kv/?modified-since=tuesday", "").status).To(Equal(400))
		})

		It("answers HEAD with the headers alone, and lists for a client that refuses the stream", func() {
			put("a", 1.0)
			h := srv.do("HEAD", "/kv/", "")
			Expect(h.status).To(Equal(200))
			Expect(h.body).To(BeEmpty())
			Expect(h.header.Get("Content-Type")).To(Equal("application/json"))
			r := srv.do("GET", "/kv/", "", "Accept", "text/event-stream;q=0, application/json")
			Expect(r.header.Get("Content-Type")).To(Equal("application/json"))
			Expect(r.body).To(ContainSubstring(`"a"`))
		})
	})

	It("lets exactly one of two racing read-modify-writes win per revision", func() {
		counters := startStore[int](store.Config{})
		defer func() { _ = counters.Shutdown() }()
		csrv := newServer(lastmodhttp.New[int](counters))
		defer csrv.close()
		Expect(csrv.do("PUT", "/kv/counter", "0", "If-None-Match", "*").status).To(Equal(201))

		const rounds = 100
		var (
			wg      sync.WaitGroup
			wins    [2]int
			refused [2]int
			bad     [2]error
		)
		for c := range 2 {
			wg.Go(func() {
				defer GinkgoRecover()
				for range rounds {
					resp, err := csrv.client.Get(csrv.srv.URL + "/kv/counter")
					if err != nil {
						bad[c] = err
						return
					}
					var n int
					err = json.NewDecoder(resp.Body).Decode(&n)
					resp.Body.Close()
					if err != nil {
						bad[c] = err
						return
					}
					req, _ := http.NewRequest("PUT", csrv.srv.URL+"/kv/counter", strings.NewReader(strconv.Itoa(n+1)))
					req.Header.Set("If-Match", resp.Header.Get("ETag"))
					put, err := csrv.client.Do(req)
					if err != nil {
						bad[c] = err
						return
					}
					put.Body.Close()
					switch put.StatusCode {
					case 200:
						wins[c]++
					case 412:
						refused[c]++
					default:
						bad[c] = fmt.Errorf("PUT answered %d", put.StatusCode)
						return
					}
				}
			})
		}
		waitFor(&wg, "the 2 read-modify-write clients to finish their rounds")
		Expect(errors.Join(bad[:]...)).NotTo(HaveOccurred())
		final, err := counters.Get("counter")
		Expect(err).NotTo(HaveOccurred())
		Expect(final.Value).To(Equal(wins[0]+wins[1]), "every successful PUT counted once: no lost update")
		Expect(wins[0] + wins[1] + refused[0] + refused[1]).To(Equal(2 * rounds))
		GinkgoWriter.Printf("wins %v, refused %v\n", wins, refused)
	})

	Describe("options", func() {
		It("WithRequirePrecondition refuses unconditional writes with 428", func() {
			rsrv := newServer(lastmodhttp.New[any](st, lastmodhttp.WithRequirePrecondition()))
			defer rsrv.close()
			Expect(rsrv.do("PUT", "/kv/k", "1").status).To(Equal(http.StatusPreconditionRequired))
			Expect(rsrv.do("PUT", "/kv/k", "1", "If-Unmodified-Since", "garbage").status).To(Equal(http.StatusPreconditionRequired))
			Expect(rsrv.do("DELETE", "/kv/k", "").status).To(Equal(http.StatusPreconditionRequired))
			Expect(rsrv.do("PUT", "/kv/k", "1", "If-None-Match", "*").status).To(Equal(201))
			item, _ := st.Get("k")
			Expect(rsrv.do("DELETE", "/kv/k", "", "If-Match", etag(item)).status).To(Equal(204))
		})

		It("WithMaxBodyBytes and WithMaxKeyBytes set the limits", func() {
			lsrv := newServer(lastmodhttp.New[any](st, lastmodhttp.WithMaxBodyBytes(4), lastmodhttp.WithMaxKeyBytes(3)))
			defer lsrv.close()
			Expect(lsrv.do("PUT", "/kv/k", "12345").status).To(Equal(http.StatusRequestEntityTooLarge))
			Expect(lsrv.do("PUT", "/kv/k", "1234").status).To(Equal(http.StatusCreated))
			Expect(lsrv.do("GET", "/kv/abcd", "").status).To(Equal(http.StatusBadRequest))
			Expect(lsrv.do("GET", "/kv/abc", "").status).To(Equal(http.StatusNotFound))
		})

		It("WithMaxBodyBytes and WithMaxKeyBytes at zero keep the defaults", func() {
			lsrv := newServer(lastmodhttp.New[any](st, lastmodhttp.WithMaxBodyBytes(0), lastmodhttp.WithMaxKeyBytes(0)))
			defer lsrv.close()
			Expect(lsrv.do("PUT", "/kv/k", "1234").status).To(Equal(http.StatusCreated))
			Expect(lsrv.do("GET", "/kv/k", "").status).To(Equal(http.StatusOK))
			long := strings.Repeat("k", lastmodhttp.DefaultMaxKeyBytes)
			Expect(lsrv.do("GET", "/kv/"+long, "").status).To(Equal(http.StatusNotFound))
			Expect(lsrv.do("GET", "/kv/"+long+"k", "").status).To(Equal(http.StatusBadRequest))
		})

		It("WithCodec serves another media type", func() {
			text := lastmodhttp.Codec{
				ContentType: "text/plain; charset=utf-8",
				Marshal:     func(v any) ([]byte, error) { return []byte(fmt.Sprint(v)), nil },
				Unmarshal: func(b []byte, v any) error {
					*(v.(*any)) = string(b)
					return nil
				},
			}
			tsrv := newServer(lastmodhttp.New[any](st, lastmodhttp.WithCodec(text)))
			defer tsrv.close()
			Expect(tsrv.do("PUT", "/kv/k", "plain words").status).To(Equal(201))
			r := tsrv.do("GET", "/kv/k", "")
			Expect(r.body).To(Equal("plain words"))
			Expect(r.header.Get("Content-Type")).To(Equal("text/plain; charset=utf-8"))
			Expect(tsrv.do("GET", "/kv/", "").body).To(MatchJSON(`{"k":{"value":"cGxhaW4gd29yZHM=","revision":1,"lastModified":` + mustJSON(mustGet(st, "k").LastModified.UTC()) + `}}`))
		})
	})

	It("serves a mutexstore, listing by filtering where it has no ModifiedSince, 501 for the stream", func() {
		ms, err := mutexstore.New[string, any](store.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(ms.Start(GinkgoT().Context())).To(Succeed())
		defer func() { _ = ms.Shutdown() }()
		msrv := newServer(lastmodhttp.New[any](ms))
		defer msrv.close()
		r := msrv.do("PUT", "/kv/k", `"v"`)
		Expect(r.status).To(Equal(201))
		Expect(msrv.do("GET", "/kv/k", "", "If-None-Match", r.header.Get("ETag")).status).To(Equal(304))
		Expect(msrv.do("PUT", "/kv/k", `"w"`, "If-Match", `"999"`).status).To(Equal(412))
		Expect(msrv.do("GET", "/kv/?modified-since=2000-01-01T00:00:00Z", "").body).To(ContainSubstring(`"k"`))
		Expect(msrv.do("GET", "/kv/?modified-since=2999-01-01T00:00:00Z", "").body).To(Equal("{}"))
		Expect(msrv.do("GET", "/kv/", "", "Accept", "text/event-stream").status).To(Equal(http.StatusNotImplemented))
	})

	It("maps the Backend's errors: invalid key 400, full 507, anything else 500", func() {
		for _, tt := range []struct {
			err  error
			want int
		}{
			{store.ErrInvalidKey, 400},
			{store.ErrStoreFull, 507},
			{store.ErrNotRunning, 503},
			{errors.New("disk on fire"), 500},
		} {
			fsrv := newServer(lastmodhttp.New[any](failing{tt.err}))
			Expect(fsrv.do("GET", "/kv/k", "").status).To(Equal(tt.want), tt.err.Error())
			Expect(fsrv.do("PUT", "/kv/k", "1").status).To(Equal(tt.want), tt.err.Error())
			fsrv.close()
		}
	})
})

// failing is a Backend whose every method fails with err.
type failing struct{ err error }

func (f failing) Get(string) (*store.Item[any], error) { return nil, f.err }
func (f failing) Delete(string) error                  { return f.err }
func (f failing) List() (map[string]*store.Item[any], error) {
	return nil, f.err
}
func (f failing) CompareAndSet(string, any, uint64) (*store.Item[any], error) { return nil, f.err }
func (f failing) CompareAndDelete(string, uint64) error                       { return f.err }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

func mustGet(s *store.Store[string, any], key string) *store.Item[any] {
	item, err := s.Get(key)
	Expect(err).NotTo(HaveOccurred())
	return item
}
