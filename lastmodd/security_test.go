package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("lastmodd's TLS and tokens", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	It("serves HTTPS, HTTP/2 included, with -tls-cert and -tls-key", func() {
		c := makeCerts()
		p := startInProcess("-addr", "127.0.0.1:0", "-tls-cert", c.serverCert, "-tls-key", c.serverKey)
		defer func() { Expect(p.stop()).To(Succeed()) }()
		Expect(p.url).To(HavePrefix("https://"))
		client := c.httpsClient()
		defer client.CloseIdleConnections()

		status, _, _ := do(client, "PUT", p.url+"/kv/a", `1`)
		Expect(status).To(Equal(201))
		// A transport with a TLS config of its own tries HTTP/2 only when
		// told to.
		h2 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			ForceAttemptHTTP2: true,
			TLSClientConfig:   &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12},
		}}
		defer h2.CloseIdleConnections()
		resp, err := h2.Get(p.url + "/kv/a")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Body.Close()).To(Succeed())
		Expect(resp.StatusCode).To(Equal(200))
		Expect(resp.Proto).To(Equal("HTTP/2.0"))

		By("a client that does not trust the certificate")
		stranger := &http.Client{Timeout: 10 * time.Second}
		defer stranger.CloseIdleConnections()
		_, err = stranger.Get(p.url + "/kv/a")
		var unknown x509.UnknownAuthorityError
		Expect(errors.As(err, &unknown)).To(BeTrue(), "%v", err)

		By("plain HTTP to the TLS port")
		plain := &http.Client{Timeout: 10 * time.Second}
		defer plain.CloseIdleConnections()
		status, _, _ = do(plain, "GET", strings.Replace(p.url, "https://", "http://", 1)+"/kv/a", "")
		Expect(status).To(Equal(400))
	})

	It("lets in only clients with a certificate -tls-client-ca signed", func() {
		c := makeCerts()
		p := startInProcess("-addr", "127.0.0.1:0", "-tls-cert", c.serverCert, "-tls-key", c.serverKey, "-tls-client-ca", c.caFile)
		defer func() { Expect(p.stop()).To(Succeed()) }()
		for _, tt := range []struct {
			name   string
			client *http.Client
		}{
			{"no client certificate", c.httpsClient()},
			{"a certificate a stranger CA signed", c.httpsClient(c.stranger)},
		} {
			_, err := tt.client.Get(p.url + "/healthz")
			Expect(err).To(HaveOccurred(), tt.name)
			Expect(isTLSRefusal(err)).To(BeTrue(), "%s: %v", tt.name, err)
			tt.client.CloseIdleConnections()
		}
		client := c.httpsClient(c.client)
		defer client.CloseIdleConnections()
		status, _, _ := do(client, "PUT", p.url+"/kv/a", `1`)
		Expect(status).To(Equal(201))
	})

	It("answers 401 without a valid token and 403 to a read token that writes, and keeps the probes open", func() {
		c := makeCerts()
		const (
			reader = "read-token-0123456789"
			writer = "write-token-0123456789"
		)
		tokens := writeFile("tokens", "# who may do what\n"+reader+" read\n\n"+writer+" write\n")
		p := startInProcess("-addr", "127.0.0.1:0", "-tls-cert", c.serverCert, "-tls-key", c.serverKey, "-token-file", tokens)
		defer func() { Expect(p.stop()).To(Succeed()) }()
		client := c.httpsClient()
		defer client.CloseIdleConnections()
		bearer := func(token string) []string { return []string{"Authorization", "Bearer " + token} }

		for _, tt := range []struct {
			name    string
			headers []string
		}{
			{"no token", nil},
			{"an unknown token", bearer("unknown-token-0123456789")},
			{"a token's prefix", bearer(writer[:len(writer)-1])},
			{"a token with more", bearer(writer + "x")},
			{"another scheme", []string{"Authorization", "Basic " + writer}},
			{"no scheme", []string{"Authorization", writer}},
		} {
			for _, method := range []string{"GET", "PUT", "DELETE"} {
				status, h, _ := do(client, method, p.url+"/kv/a", `1`, tt.headers...)
				Expect(status).To(Equal(401), "%s, %s", tt.name, method)
				Expect(h.Get("WWW-Authenticate")).To(Equal(`Bearer realm="lastmodd"`))
			}
			status, _, _ := do(client, "GET", p.url+"/metrics", "", tt.headers...)
			Expect(status).To(Equal(401), "%s: /metrics on the main address needs a token", tt.name)
		}

		status, _, _ := do(client, "PUT", p.url+"/kv/a", `1`, bearer(writer)...)
		Expect(status).To(Equal(201))
		status, _, _ = do(client, "PUT", p.url+"/kv/a", `2`, bearer(reader)...)
		Expect(status).To(Equal(403))
		status, _, _ = do(client, "DELETE", p.url+"/kv/a", "", bearer(reader)...)
		Expect(status).To(Equal(403))
		status, _, body := do(client, "GET", p.url+"/kv/a", "", bearer(reader)...)
		Expect(status).To(Equal(200))
		Expect(body).To(Equal("1"), "the read token's PUT changed nothing")
		status, _, _ = do(client, "GET", p.url+"/kv/a", "", "Authorization", "bearer "+reader)
		Expect(status).To(Equal(200), "the scheme's case does not matter")
		status, _, _ = do(client, "DELETE", p.url+"/kv/a", "", bearer(writer)...)
		Expect(status).To(Equal(204))

		By("the root's batches and Clear: a batch read is a read, the rest writes")
		status, _, _ = do(client, "POST", p.url+"/kv/", `{"set": {"x": 1, "y": 2}}`, bearer(reader)...)
		Expect(status).To(Equal(403))
		status, _, _ = do(client, "POST", p.url+"/kv/", `{"set": {"x": 1, "y": 2}}`, bearer(writer)...)
		Expect(status).To(Equal(204))
		status, _, body = do(client, "POST", p.url+"/kv/", `{"get": ["x", "y"]}`, bearer(reader)...)
		Expect(status).To(Equal(200), "the body the token check read is handed on whole")
		Expect(body).To(And(ContainSubstring(`"x"`), ContainSubstring(`"y"`)))
		for _, give := range []string{
			`{"get": ["x"], "set": {"x": 3}}`, `{"get": ["x"]} {"set": {"x": 3}}`, `{"get": ["x"], "other": 1}`,
			`{"get": `, `[]`, `"` + strings.Repeat("x", 2<<20) + `"`,
		} {
			status, _, _ = do(client, "POST", p.url+"/kv/", give, bearer(reader)...)
			Expect(status).To(Equal(403), "a body that is not a batch read, from a read token: %.40s", give)
		}
		status, _, body = do(client, "POST", p.url+"/kv/x", `{"get": ["x"]}`, bearer(reader)...)
		Expect(status).To(Equal(403), "POST elsewhere than the root: %s", body)
		status, _, _ = do(client, "DELETE", p.url+"/kv/", "", append(bearer(reader), "If-Match", "*")...)
		Expect(status).To(Equal(403), "Clear")
		status, _, _ = do(client, "GET", p.url+"/kv/?stats", "", bearer(reader)...)
		Expect(status).To(Equal(200))
		status, _, _ = do(client, "DELETE", p.url+"/kv/", "", append(bearer(writer), "If-Match", "*")...)
		Expect(status).To(Equal(204))

		for _, probe := range []string{"/healthz", "/readyz"} {
			status, _, _ := do(client, "GET", p.url+probe, "")
			Expect(status).To(Equal(200), probe+" without a token")
		}
		m := scrape(client, p.url+"/metrics", bearer(reader)...)
		Expect(m).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="401",method="PUT",route="/kv/{key}"}`, 6.0))
		Expect(m).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="403",method="PUT",route="/kv/{key}"}`, 1.0))
		Expect(m).To(HaveKeyWithValue(`lastmodd_http_requests_total{code="403",method="POST",route="/kv/"}`, 7.0))
		Expect(p.logs.String()).NotTo(Or(ContainSubstring(reader), ContainSubstring(writer)))
	})

	It("serves profiles on -debug-addr only", func() {
		p := startInProcess("-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0")
		defer func() { Expect(p.stop()).To(Succeed()) }()
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		Expect(p.urls).To(HaveKey("debug on"))
		status, _, body := do(client, "GET", p.urls["debug on"]+"/debug/pprof/", "")
		Expect(status).To(Equal(200))
		Expect(body).To(ContainSubstring("goroutine"))
		status, _, body = do(client, "GET", p.urls["debug on"]+"/debug/pprof/goroutine?debug=1", "")
		Expect(status).To(Equal(200))
		Expect(body).To(ContainSubstring("goroutine profile:"))
		status, _, _ = do(client, "GET", p.urls["debug on"]+"/debug/pprof/cmdline", "")
		Expect(status).To(Equal(200))
		status, _, _ = do(client, "GET", p.url+"/debug/pprof/", "")
		Expect(status).To(Equal(404), "not on the main address")

		q := startInProcess("-addr", "127.0.0.1:0")
		defer func() { Expect(q.stop()).To(Succeed()) }()
		Expect(q.urls).To(HaveLen(1), "no profiles without -debug-addr")
	})
})
