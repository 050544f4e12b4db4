package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/store"
)

// parseMetrics parses the text exposition format with prometheus/common's
// parser and flattens it to name{labels} → value, labels sorted by name;
// a histogram gives name_count, name_sum and name_bucket{…,le="…"}.
func parseMetrics(body string) map[string]float64 {
	GinkgoHelper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred(), "/metrics is in the text exposition format")
	out := make(map[string]float64)
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := labelPairs(m.GetLabel())
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[series(name, labels)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[series(name, labels)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				out[series(name+"_count", labels)] = float64(h.GetSampleCount())
				out[series(name+"_sum", labels)] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					out[series(name+"_bucket", append(labels, `le="`+model.FloatString(b.GetUpperBound()).String()+`"`))] = float64(b.GetCumulativeCount())
				}
			default:
				out[series(name, labels)] = m.GetUntyped().GetValue()
			}
		}
	}
	return out
}

func labelPairs(pairs []*dto.LabelPair) []string {
	var out []string
	for _, p := range pairs {
		out = append(out, p.GetName()+`="`+p.GetValue()+`"`)
	}
	return out
}

func series(name string, labels []string) string {
	if len(labels) == 0 {
		return name
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

var _ = Describe("lastmodd's metrics", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	It("counts requests, streams, the store's figures and snapshots, and they move with the traffic", func(ctx SpecContext) {
		snap := filepath.Join(GinkgoT().TempDir(), "store.snap")
		p := startInProcess("-addr", "127.0.0.1:0", "-snapshot", snap, "-snapshot-every", "20ms")
		defer func() { Expect(p.stop()).To(Succeed()) }()
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		metrics := p.url + "/metrics"

		before := scrape(client, metrics)
		Expect(before).To(HaveKeyWithValue("lastmodd_store_up", 1.0))
		Expect(before).To(HaveKeyWithValue("lastmodd_store_items", 0.0))
		Expect(before).To(HaveKeyWithValue("lastmodd_change_streams_open", 0.0))
		Expect(before).To(HaveKey("go_goroutines"), "the Go runtime's figures")
		Expect(before).To(HaveKey("process_start_time_seconds"), "the process's figures")

		for _, k := range []string{"a", "b", "c"} {
			status, _, _ := do(client, "PUT", p.url+"/kv/"+k, `1`)
			Expect(status).To(Equal(201))
		}
		status, _, _ := do(client, "PUT", p.url+"/kv/a", `2`)
		Expect(status).To(Equal(200))
		status, _, _ = do(client, "PUT", p.url+"/kv/a", `3`, "If-Match", `"999"`)
		Expect(status).To(Equal(412))
		status, _, _ = do(client, "GET", p.url+"/kv/a", "")
		Expect(status).To(Equal(200))
		status, _, _ = do(client, "GET", p.url+"/kv/nothing", "")
		Expect(status).To(Equal(404))
		status, _, _ = do(client, "DELETE", p.url+"/kv/c", "")
		Expect(status).To(Equal(204))

		req, err := http.NewRequestWithContext(ctx, "GET", p.url+"/kv/", nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Accept", "text/event-stream")
		streams := &http.Client{} // no timeout: a stream has no end
		defer streams.CloseIdleConnections()
		stream, err := streams.Do(req)
		Expect(err).NotTo(HaveOccurred())
		Expect(stream.StatusCode).To(Equal(200))

		after := scrape(client, metrics)
		Expect(after).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="201",method="PUT",route="/kv/{key}"}`, 3.0))
		Expect(after).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="200",method="PUT",route="/kv/{key}"}`, 1.0))
		Expect(after).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="412",method="PUT",route="/kv/{key}"}`, 1.0))
		Expect(after).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="404",method="GET",route="/kv/{key}"}`, 1.0))
		Expect(after).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="204",method="DELETE",route="/kv/{key}"}`, 1.0))
		Expect(after).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="200",method="GET",route="/metrics"}`, 1.0), "the scrape before")
		Expect(after).To(HaveKeyWithValue(`lastmodd_http_request_duration_seconds_count{method="PUT",route="/kv/{key}"}`, 5.0))
		Expect(after).To(HaveKeyWithValue(`lastmodd_http_request_duration_seconds_bucket{le="+Inf",method="PUT",route="/kv/{key}"}`, 5.0))
		Expect(after[`lastmodd_http_request_duration_seconds_sum{method="PUT",route="/kv/{key}"}`]).To(BeNumerically(">", 0))
		Expect(after).To(HaveKeyWithValue("lastmodd_change_streams_open", 1.0))
		Expect(after).To(HaveKeyWithValue("lastmodd_http_requests_in_flight", 2.0), "this scrape and the stream")
		Expect(after).To(HaveKeyWithValue("lastmodd_store_watchers", 1.0), "the stream's watch")

		Expect(after).To(HaveKeyWithValue("lastmodd_store_items", 2.0))
		Expect(after["lastmodd_store_writes_total"] - before["lastmodd_store_writes_total"]).To(Equal(4.0))
		Expect(after["lastmodd_store_deletes_total"] - before["lastmodd_store_deletes_total"]).To(Equal(1.0))
		Expect(after["lastmodd_store_revision"]-before["lastmodd_store_revision"]).To(Equal(5.0), "4 writes and a delete")
		Expect(after).To(HaveKeyWithValue("lastmodd_store_oldest_revision", 0.0), "the history holds every change yet")
		Expect(after["lastmodd_store_hits_total"]).To(BeNumerically(">", before["lastmodd_store_hits_total"]))
		Expect(after["lastmodd_store_misses_total"]).To(BeNumerically(">", before["lastmodd_store_misses_total"]))
		for _, name := range []string{"expirations", "evictions", "loads", "load_errors", "restarts", "dropped_notices"} {
			Expect(after).To(HaveKeyWithValue("lastmodd_store_"+name+"_total", 0.0), name)
		}
		for _, name := range []string{"waiting_callers", "pending_notices", "mailbox_requests"} {
			Expect(after).To(HaveKey("lastmodd_store_"+name), name)
		}

		By("the stream, once closed, no longer counted")
		Expect(stream.Body.Close()).To(Succeed())
		Eventually(func() float64 {
			return scrape(client, metrics)["lastmodd_change_streams_open"]
		}).WithTimeout(10*time.Second).Should(BeZero(), "the closed stream to end on the server")
		Expect(scrape(client, metrics)).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="200",method="GET",route="/kv/ (stream)"}`, 1.0))

		By("snapshots: one written at the first -snapshot-every after the writes")
		var m map[string]float64
		Eventually(func() float64 {
			m = scrape(client, metrics)
			return m[`lastmodd_snapshots_total{result="written"}`]
		}).WithTimeout(10*time.Second).Should(BeNumerically(">=", 1), "a periodic snapshot")
		Expect(m).To(HaveKeyWithValue(`lastmodd_snapshots_total{result="failed"}`, 0.0))
		Expect(m["lastmodd_snapshot_duration_seconds_count"]).To(Equal(m[`lastmodd_snapshots_total{result="written"}`]))
		Expect(m["lastmodd_snapshot_size_bytes"]).To(BeNumerically(">", 0))
		Expect(m["lastmodd_snapshot_last_success_timestamp_seconds"]).To(BeNumerically("~", float64(time.Now().Unix()), 60))

		By("snapshots of an idle store: skipped, the file already holds every write")
		Eventually(func() float64 {
			m = scrape(client, metrics)
			return m[`lastmodd_snapshots_total{result="unchanged"}`]
		}).WithTimeout(10*time.Second).Should(BeNumerically(">=", 2), "two periodic snapshots skipped")
		// A Clear moves none of the store's counters: the snapshot must
		// still be written, or a crash would bring the items back.
		for _, change := range []struct {
			method, path, body string
			headers            []string
		}{
			{"PUT", "/kv/after", `1`, nil},
			{"DELETE", "/kv/", "", []string{"If-Match", "*"}},
		} {
			written := scrape(client, metrics)[`lastmodd_snapshots_total{result="written"}`]
			status, _, _ = do(client, change.method, p.url+change.path, change.body, change.headers...)
			Expect(status).To(BeNumerically("<", 300), change.method+" "+change.path)
			Eventually(func() float64 {
				return scrape(client, metrics)[`lastmodd_snapshots_total{result="written"}`]
			}).WithTimeout(10*time.Second).Should(BeNumerically(">", written), "a snapshot written after %s %s", change.method, change.path)
		}
		Expect(scrape(client, metrics)).To(HaveKeyWithValue("lastmodd_store_items", 0.0))
	}, SpecTimeout(time.Minute))

	It("serves /metrics on -metrics-addr alone when it is given", func() {
		p := startInProcess("-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0")
		defer func() { Expect(p.stop()).To(Succeed()) }()
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		Expect(p.urls).To(HaveKey("metrics on"))
		status, _, _ := do(client, "PUT", p.url+"/kv/a", `1`)
		Expect(status).To(Equal(201))
		m := scrape(client, p.urls["metrics on"]+"/metrics")
		Expect(m).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="201",method="PUT",route="/kv/{key}"}`, 1.0))
		status, _, _ = do(client, "GET", p.url+"/metrics", "")
		Expect(status).To(Equal(404), "not on the main address")
	})

	It("reports a stopped store as down, and no other figure of it", func() {
		c := newStatsCollector(func() (store.Stats, error) { return store.Stats{}, store.ErrNotRunning })
		ch := make(chan prometheus.Metric, 32)
		c.Collect(ch)
		close(ch)
		Expect(ch).To(HaveLen(1), "only lastmodd_store_up")
		var m dto.Metric
		Expect((<-ch).Write(&m)).To(Succeed())
		Expect(m.GetGauge().GetValue()).To(BeZero())
	})

	It("sees a stream begin when its handler flushes before it writes", func() {
		under := httptest.NewRecorder()
		began := 0
		rec := &recorder{ResponseWriter: under, streamBegan: func() { began++ }}
		rec.Header().Set("Content-Type", "text/event-stream")
		Expect(http.NewResponseController(rec).Flush()).To(Succeed())
		Expect(rec.code).To(Equal(200))
		Expect(rec.stream).To(BeTrue())
		Expect(began).To(Equal(1))
		Expect(under.Flushed).To(BeTrue(), "the flush reached the connection")
		_, err := rec.Write([]byte("id: 1\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(began).To(Equal(1), "a stream begins once")
		Expect(rec.bytes).To(Equal(int64(6)))
	})

	It("exports, over etcd, the cluster's requests, errors and timeouts, moving with the traffic", func(SpecContext) {
		cluster := startEtcd(1)
		defer cluster.close()
		d := startDaemon(bin, "-addr", "127.0.0.1:0", "-etcd", cluster.endpoints(), "-etcd-request-timeout", "1s")
		defer func() { Expect(d.stop()).To(Succeed()) }()
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()

		before := scrape(client, d.url+"/metrics")
		for _, key := range []string{"a", "b", "c"} {
			status, _, _ := do(client, "PUT", d.url+"/kv/"+key, `1`, "If-None-Match", "*")
			Expect(status).To(Equal(201))
		}
		after := scrape(client, d.url+"/metrics")
		txn := `lastmodd_etcd_requests_total{method="KV/Txn"}`
		Expect(after[txn]-before[txn]).To(BeNumerically(">=", 3), "a transaction per conditional write")
		for name := range after {
			Expect(name).NotTo(HavePrefix("lastmodd_etcd_request_errors_total"), "no error while the cluster answers")
			Expect(name).NotTo(HavePrefix("lastmodd_etcd_request_timeouts_total"))
		}
		Expect(after).To(HaveKeyWithValue("lastmodd_store_up", 1.0))
		Expect(after).To(HaveKeyWithValue("lastmodd_store_items", 3.0), "the store's Stats, from the cluster")
		Expect(after).NotTo(HaveKey(HavePrefix("lastmodd_snapshot")), "no snapshot figures where nothing is saved")

		By("the cluster gone: requests time out after -etcd-request-timeout")
		cluster.kill(0)
		status, _, _ := do(client, "GET", d.url+"/kv/a", "")
		Expect(status).To(Equal(503), "unavailable, not a bug")
		down := scrape(client, d.url+"/metrics")
		Expect(down[`lastmodd_etcd_request_timeouts_total{method="KV/Range"}`]).To(BeNumerically(">=", 1))
		Expect(down[`lastmodd_etcd_request_errors_total{code="DeadlineExceeded",method="KV/Range"}`]).To(BeNumerically(">=", 1))
		Expect(down).To(HaveKeyWithValue("lastmodd_store_up", 0.0), "Stats did not answer either")
		Expect(down[`lastmodd_http_requests_total{code="503",method="GET",route="/kv/{key}"}`]).To(Equal(1.0))
	}, SpecTimeout(time.Minute))
})
