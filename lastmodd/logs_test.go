package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("lastmodd's log", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	// secret is in every body the specs send; it must never be logged.
	const secret = "s3cr3t-value-body"

	It("is text by default and logs the start and the stop with the effective configuration", func() {
		p := startInProcess("-addr", "127.0.0.1:0", "-ttl", "1m", "-max-size", "7")
		Expect(p.stop()).To(Succeed())
		lines := strings.Split(strings.TrimSpace(p.logs.String()), "\n")
		Expect(lines[0]).To(MatchRegexp(`^time=\S+ level=INFO msg="lastmodd starting" config.addr=127\.0\.0\.1:0 `))
		Expect(lines[0]).To(ContainSubstring("config.ttl=1m0s"))
		Expect(lines[0]).To(ContainSubstring("config.max_size=7"))
		Expect(lines[0]).To(ContainSubstring(" config.backend=embedded config.snapshot="))
		Expect(lines[0]).To(HaveSuffix(" config.history=4096"))
		Expect(lines[len(lines)-1]).To(MatchRegexp(`^time=\S+ level=INFO msg="lastmodd stopped" uptime=\S+ config.addr=127\.0\.0\.1:0 `))
	})

	It("in JSON, logs every 5xx answer, and with -access-log every request, never a body", func() {
		tokens := writeFile("tokens", "write-token-0123456789 write\n")
		snap := filepath.Join(GinkgoT().TempDir(), "store.snap")
		p := startInProcess("-addr", "127.0.0.1:0", "-log-format", "json", "-max-size", "1",
			"-token-file", tokens, "-snapshot", snap)
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		auth := []string{"Authorization", "Bearer write-token-0123456789"}

		status, _, _ := do(client, "PUT", p.url+"/kv/a", `"`+secret+`"`, auth...)
		Expect(status).To(Equal(201))
		status, _, _ = do(client, "PUT", p.url+"/kv/b", `"`+secret+`"`, auth...)
		Expect(status).To(Equal(507), "the store is full")
		Expect(p.stop()).To(Succeed())

		start := p.logs.records("lastmodd starting")
		Expect(start).To(HaveLen(1))
		Expect(start[0]).To(HaveKeyWithValue("level", "INFO"))
		Expect(start[0]["config"]).To(HaveKeyWithValue("max_size", 1.0))
		Expect(start[0]["config"]).To(HaveKeyWithValue("write_tokens", 1.0))
		Expect(start[0]["config"]).To(HaveKeyWithValue("snapshot", snap))

		requests := p.logs.records("request")
		Expect(requests).To(HaveLen(1), "without -access-log only the 5xx answer is logged")
		Expect(requests[0]).To(HaveKeyWithValue("level", "ERROR"))
		Expect(requests[0]).To(HaveKeyWithValue("status", 507.0))
		Expect(requests[0]).To(HaveKeyWithValue("method", "PUT"))
		Expect(requests[0]).To(HaveKeyWithValue("route", "/kv/{key}"))
		Expect(requests[0]).To(HaveKeyWithValue("path", "/kv/b"))

		written := p.logs.records("snapshot written")
		Expect(written).To(HaveLen(1))
		Expect(written[0]).To(HaveKeyWithValue("reason", "stop"))
		Expect(written[0]).To(HaveKeyWithValue("path", snap))
		Expect(written[0]["bytes"]).To(BeNumerically(">", 0))
		Expect(p.logs.records("lastmodd stopped")).To(HaveLen(1))

		Expect(p.logs.String()).NotTo(ContainSubstring(secret), "no value's body")
		Expect(p.logs.String()).NotTo(ContainSubstring("write-token-0123456789"), "no token")

		By("-access-log")
		p = startInProcess("-addr", "127.0.0.1:0", "-log-format", "json", "-access-log")
		status, _, _ = do(client, "PUT", p.url+"/kv/a", `"`+secret+`"`)
		Expect(status).To(Equal(201))
		status, _, _ = do(client, "GET", p.url+"/kv/a", "")
		Expect(status).To(Equal(200))
		status, _, _ = do(client, "GET", p.url+"/kv/missing?x=1", "")
		Expect(status).To(Equal(404))
		Expect(p.stop()).To(Succeed())
		requests = p.logs.records("request")
		Expect(requests).To(HaveLen(3))
		Expect(requests[1]).To(HaveKeyWithValue("level", "INFO"))
		Expect(requests[1]).To(HaveKeyWithValue("status", 200.0))
		Expect(requests[1]).To(HaveKeyWithValue("bytes", float64(len(`"`+secret+`"`))))
		Expect(requests[1]).To(HaveKey("duration"))
		Expect(requests[1]).To(HaveKey("remote"))
		Expect(requests[2]).To(HaveKeyWithValue("path", "/kv/missing"), "the path, without the query")
		Expect(p.logs.String()).NotTo(ContainSubstring(secret), "no value's body")
	})
})
