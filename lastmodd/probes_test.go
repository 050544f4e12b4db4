package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/store"
)

var _ = Describe("lastmodd's probes", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	It("answers /readyz 503 from the moment a stop begins, while /healthz and the store still answer through -drain-delay", func(SpecContext) {
		d := startDaemon(bin, "-addr", "127.0.0.1:0", "-drain-delay", "1h")
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()

		status, _, body := do(client, "GET", d.url+"/healthz", "")
		Expect(status).To(Equal(200))
		Expect(body).To(Equal("ok\n"))
		status, h, body := do(client, "GET", d.url+"/readyz", "")
		Expect(status).To(Equal(200))
		Expect(body).To(Equal("ready\n"))
		Expect(h.Get("Cache-Control")).To(Equal("no-store"))
		status, _, _ = do(client, "HEAD", d.url+"/readyz", "")
		Expect(status).To(Equal(200))
		status, _, _ = do(client, "POST", d.url+"/readyz", "")
		Expect(status).To(Equal(405))

		Expect(d.cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
		Eventually(func() int {
			status, _, _ := do(client, "GET", d.url+"/readyz", "")
			return status
		}).WithTimeout(10*time.Second).Should(Equal(503), "/readyz to turn 503 once the stop began")
		status, _, body = do(client, "GET", d.url+"/readyz", "")
		Expect(status).To(Equal(503))
		Expect(body).To(Equal("stopping\n"))
		status, _, _ = do(client, "GET", d.url+"/healthz", "")
		Expect(status).To(Equal(200), "the process still serves")
		status, _, _ = do(client, "PUT", d.url+"/kv/late", `1`)
		Expect(status).To(Equal(201), "requests still on their way are served while it drains")

		// The drain would last an hour: a second signal cuts it short.
		Expect(d.stop()).To(Succeed(), "lastmodd exits 0 after a second SIGTERM during its drain")
	}, SpecTimeout(time.Minute))

	It("ends -drain-delay by itself", func(SpecContext) {
		d := startDaemon(bin, "-addr", "127.0.0.1:0", "-drain-delay", "100ms")
		Expect(d.stop()).To(Succeed(), "one SIGTERM: lastmodd exits 0 once the drain is over")
	}, SpecTimeout(time.Minute))

	It("answers /readyz 503 for a store that is not running, and 200 for one that is", func() {
		s, err := store.New[string, json.RawMessage](store.Config{})
		Expect(err).NotTo(HaveOccurred())
		p := &probes{ready: embedded{s: s}.ready}
		probe := func() (int, string) {
			w := httptest.NewRecorder()
			p.readyz(w, httptest.NewRequest("GET", "/readyz", nil))
			return w.Code, w.Body.String()
		}
		code, body := probe()
		Expect(code).To(Equal(503))
		Expect(body).To(ContainSubstring("not ready"))
		Expect(body).To(ContainSubstring(store.ErrNotRunning.Error()))

		Expect(s.Start(context.Background())).To(Succeed())
		code, body = probe()
		Expect(code).To(Equal(200))
		Expect(body).To(Equal("ready\n"))

		Expect(s.Shutdown()).To(Succeed())
		code, _ = probe()
		Expect(code).To(Equal(503), "a stopped store is not ready")
	})

	It("answers /readyz 503 while the etcd cluster does not answer, and 200 again once it does; /healthz 200 throughout", func(SpecContext) {
		cluster := startEtcd(1)
		defer cluster.close()
		args := []string{"-addr", "127.0.0.1:0", "-etcd", cluster.endpoints(), "-etcd-request-timeout", "1s", "-log-format", "json"}
		d := startDaemon(bin, args...)
		defer func() { Expect(d.stop()).To(Succeed()) }()
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		var body string
		readyz := func(d *daemon) func() int {
			return func() int {
				var status int
				status, _, body = do(client, "GET", d.url+"/readyz", "")
				return status
			}
		}
		Expect(readyz(d)()).To(Equal(200))

		cluster.kill(0)
		Eventually(readyz(d)).WithTimeout(10*time.Second).Should(Equal(503), "/readyz to turn 503 with the cluster gone")
		Expect(body).To(HavePrefix("not ready: etcd does not answer: "))
		status, _, _ := do(client, "GET", d.url+"/healthz", "")
		Expect(status).To(Equal(200), "the process still serves")
		status, header, _ := do(client, "PUT", d.url+"/kv/gone", `1`)
		Expect(status).To(Equal(503), "a request past -etcd-request-timeout")
		Expect(header.Get("Lastmod-Error")).To(Equal("unavailable"))
		Expect(header.Get("Retry-After")).To(Equal("1"))

		By("a replica started while the cluster is down starts, unready, and says so")
		logs := &logBuffer{}
		late := startDaemonLogging(bin, logs, args...)
		defer func() { Expect(late.stop()).To(Succeed()) }()
		Expect(readyz(late)()).To(Equal(503))
		Expect(logs.records("the etcd cluster does not answer yet: /readyz answers 503 until it does")).To(HaveLen(1))

		cluster.restart(0)
		for _, r := range []*daemon{d, late} {
			Eventually(readyz(r)).WithTimeout(20*time.Second).Should(Equal(200), "/readyz back to 200 with the cluster back")
		}
		status, _, _ = do(client, "PUT", late.url+"/kv/back", `1`)
		Expect(status).To(Equal(201))
	}, SpecTimeout(time.Minute))
})
