package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

var _ = Describe("lastmodd over etcd (-etcd)", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	It("refuses, before it starts anything, what the etcd backend cannot honour and the etcd flags without -etcd", func() {
		Expect(os.Getenv(etcdPasswordEnv)).To(BeEmpty(), "the spec needs $%s unset", etcdPasswordEnv)
		missing := GinkgoT().TempDir() + "/none.pem"
		notPEM := writeFile("not.pem", "hello\n")
		password := writeFile("password", "secret\n")
		empty := writeFile("empty", "\n")
		ep := []string{"-etcd", "127.0.0.1:2379"}
		with := func(args ...string) []string { return append(append([]string{}, ep...), args...) }
		for _, tt := range []struct {
			give []string
			want string
		}{
			{with("-max-size", "10"), "-max-size cannot be served with -etcd: a store over etcd has no size limit"},
			{with("-eviction", "oldest"), "-eviction cannot be served with -etcd"},
			{with("-cleanup-interval", "1s"), "-cleanup-interval cannot be served with -etcd: the cluster removes expired items itself"},
			{with("-lock-free-reads"), "-lock-free-reads cannot be served with -etcd"},
			{with("-snapshot", "store.snap"), "-snapshot cannot be served with -etcd: the items live in the cluster"},
			{with("-snapshot-every", "1s", "-snapshot", "store.snap"), "-snapshot cannot be served with -etcd"},
			{with("-history", "10"), "-history cannot be served with -etcd: change streams resume from the cluster's own history"},
			{with("-etcd-prefix", ""), "-etcd-prefix must not be empty"},
			{with("-etcd-dial-timeout", "0"), "-etcd-dial-timeout and -etcd-request-timeout must be positive"},
			{with("-etcd-request-timeout", "-1s"), "-etcd-dial-timeout and -etcd-request-timeout must be positive"},
			{with("-etcd-cert", "c.pem"), "-etcd-cert and -etcd-key go together"},
			{with("-etcd-key", "k.pem"), "-etcd-cert and -etcd-key go together"},
			{with("-etcd-password-file", password), "-etcd-password-file needs -etcd-user"},
			{with("-etcd-user", "root"), "-etcd-user root needs a password: .*-etcd-password-file, or in \\$LASTMODD_ETCD_PASSWORD"},
			{with("-etcd-user", "root", "-etcd-password-file", empty), "-etcd-password-file .* is empty"},
			{with("-etcd-user", "root", "-etcd-password-file", missing), "-etcd-password-file: .*no such file"},
			{with("-etcd-cacert", missing), "-etcd-cacert: .*no such file"},
			{with("-etcd-cacert", notPEM), "-etcd-cacert .*: no PEM certificate in it"},
			{with("-etcd-cert", notPEM, "-etcd-key", notPEM), "-etcd-cert .*, -etcd-key"},
			{[]string{"-etcd", ""}, "-etcd is empty"},
			{[]string{"-etcd", "127.0.0.1:2379,,127.0.0.1:2380"}, "an empty endpoint"},
			{[]string{"-etcd", "127.0.0.1"}, `endpoint "127.0.0.1": .*missing port`},
			{[]string{"-etcd", "ftp://127.0.0.1:2379"}, `scheme "ftp"`},
			{[]string{"-etcd-prefix", "x/"}, "-etcd-prefix needs -etcd"},
			{[]string{"-etcd-user", "root"}, "-etcd-user needs -etcd"},
			{[]string{"-etcd-cacert", "ca.pem"}, "-etcd-cacert needs -etcd"},
			{[]string{"-etcd-dial-timeout", "1s"}, "-etcd-dial-timeout needs -etcd"},
		} {
			args := append([]string{"-addr", "127.0.0.1:0"}, tt.give...)
			var logs bytes.Buffer
			// Bounded, so that a case not refused fails instead of
			// serving for ever.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := run(ctx, args, io.Discard, &logs)
			cancel()
			Expect(err).To(MatchError(MatchRegexp(tt.want)), strings.Join(tt.give, " "))
			Expect(logs.String()).NotTo(ContainSubstring("lastmodd starting"), "%s: refused before it starts", strings.Join(tt.give, " "))
		}
		c, err := parseFlags([]string{"-etcd", "127.0.0.1:2379, https://[::1]:2379", "-ttl", "1m", "-eviction", "reject", "-max-size", "0"}, io.Discard)
		Expect(err).NotTo(HaveOccurred(), "-ttl is honoured, and the embedded store's flags at what etcdstore does anyway are taken")
		Expect(c.etcd.endpoints).To(Equal([]string{"127.0.0.1:2379", "https://[::1]:2379"}))
		Expect(c.etcd.prefix).To(Equal("lastmodd/"))
		Expect(c.etcd.dialTimeout).To(Equal(5 * time.Second))
		Expect(c.etcd.requestTimeout).To(Equal(5 * time.Second))

		By("the process exits 1 with the message")
		out, err := exec.Command(bin, "-etcd", "127.0.0.1:2379", "-max-size", "5").CombinedOutput()
		Expect(err).To(MatchError(ContainSubstring("exit status 1")))
		Expect(string(out)).To(ContainSubstring("lastmodd: -max-size cannot be served with -etcd"))
	})

	It("serves replicas over one cluster: the same ETags, conditional writes exact across them, and a change stream resumed on another", func(ctx SpecContext) {
		cluster := startEtcd(1)
		defer cluster.close()
		a := startDaemon(bin, "-addr", "127.0.0.1:0", "-etcd", cluster.endpoints(), "-etcd-prefix", "replicas/")
		defer func() { Expect(a.stop()).To(Succeed()) }()
		b := startDaemon(bin, "-addr", "127.0.0.1:0", "-etcd", cluster.endpoints(), "-etcd-prefix", "replicas/")
		defer func() { Expect(b.stop()).To(Succeed()) }()
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()

		for _, d := range []*daemon{a, b} {
			status, _, body := do(client, "GET", d.url+"/readyz", "")
			Expect(status).To(Equal(200), body)
		}
		status, h, _ := do(client, "PUT", a.url+"/kv/greeting", `{"hello":"world"}`, "If-None-Match", "*")
		Expect(status).To(Equal(201))
		first := h.Get("ETag")
		Expect(first).To(MatchRegexp(`^"[0-9]+"$`))
		status, h, body := do(client, "GET", b.url+"/kv/greeting", "")
		Expect(status).To(Equal(200))
		Expect(body).To(MatchJSON(`{"hello":"world"}`))
		Expect(h.Get("ETag")).To(Equal(first), "the revision is the cluster's: the same on every replica")
		status, _, _ = do(client, "GET", b.url+"/kv/greeting", "", "If-None-Match", first)
		Expect(status).To(Equal(304), "an ETag from one replica is current on another")

		status, h, _ = do(client, "PUT", b.url+"/kv/greeting", `{"hello":"again"}`, "If-Match", first)
		Expect(status).To(Equal(200))
		second := h.Get("ETag")
		status, h, _ = do(client, "PUT", a.url+"/kv/greeting", `{"hello":"lost"}`, "If-Match", first)
		Expect(status).To(Equal(412), "the write B made is seen by A's precondition")
		Expect(h.Get("ETag")).To(Equal(second))
		status, _, _ = do(client, "PUT", a.url+"/kv/greeting", `{}`, "If-None-Match", "*")
		Expect(status).To(Equal(412))

		By("a replica under another -etcd-prefix serves another store")
		other := startDaemon(bin, "-addr", "127.0.0.1:0", "-etcd", cluster.endpoints(), "-etcd-prefix", "elsewhere/")
		status, _, _ = do(client, "GET", other.url+"/kv/greeting", "")
		Expect(status).To(Equal(404))
		Expect(other.stop()).To(Succeed())

		By("a change stream resumed with Last-Event-ID on the other replica")
		req, err := http.NewRequestWithContext(ctx, "GET", a.url+"/kv/", nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Last-Event-ID", strings.Trim(first, `"`))
		resp, err := client.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(200))
		lines := bufio.NewReader(resp.Body)
		Expect(lines.ReadString('\n')).To(Equal("id: "+strings.Trim(second, `"`)+"\n"), "the change after the one it had, made on B")
		for {
			line, err := lines.ReadString('\n')
			Expect(err).NotTo(HaveOccurred())
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				Expect(data).To(And(ContainSubstring(`"key":"greeting"`), ContainSubstring(`"again"`)))
				break
			}
		}
		Expect(resp.Body.Close()).To(Succeed())
	}, SpecTimeout(2*time.Minute))

	It("talks TLS with client certificates and authenticates to a cluster that asks for both (-etcd-cacert, -etcd-cert, -etcd-key, -etcd-user, -etcd-password-file, $LASTMODD_ETCD_PASSWORD)", func(ctx SpecContext) {
		certs := makeCerts()
		password := writeFile("password", "s3cret-pass\n")
		cluster := startEtcd(1, "-tls-cert", certs.serverCert, "-tls-key", certs.serverKey, "-tls-client-ca", certs.caFile, "-root-password", password)
		defer cluster.close()
		tlsArgs := []string{"-addr", "127.0.0.1:0", "-etcd", cluster.endpoints(), "-etcd-dial-timeout", "2s",
			"-etcd-cacert", certs.caFile, "-etcd-cert", certs.clientCert, "-etcd-key", certs.clientKey, "-etcd-user", "root"}
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()

		logs := &logBuffer{}
		d := startDaemonLogging(bin, logs, append(tlsArgs, "-etcd-password-file", password)...)
		status, _, _ := do(client, "PUT", d.url+"/kv/secure", `"yes"`)
		Expect(status).To(Equal(201))
		status, _, body := do(client, "GET", d.url+"/readyz", "")
		Expect(status).To(Equal(200), body)
		Expect(d.stop()).To(Succeed())
		Expect(logs.String()).To(ContainSubstring("config.etcd.user=root"))
		Expect(logs.String()).NotTo(ContainSubstring("config.history="), "what only the embedded store has is not logged over etcd")
		Expect(logs.String()).NotTo(ContainSubstring("s3cret-pass"), "the password is never logged")

		By("the password from the environment")
		cmd := exec.Command(bin, tlsArgs...)
		cmd.Env = append(os.Environ(), etcdPasswordEnv+"=s3cret-pass")
		d = startCommand(cmd)
		status, _, body = do(client, "GET", d.url+"/kv/secure", "")
		Expect(status).To(Equal(200))
		Expect(body).To(Equal(`"yes"`))
		Expect(d.stop()).To(Succeed())

		By("a wrong password, and no client certificate, refused at start")
		wrong := writeFile("wrong", "not-the-password\n")
		out, err := exec.CommandContext(ctx, bin, append(tlsArgs, "-etcd-password-file", wrong)...).CombinedOutput()
		Expect(err).To(MatchError(ContainSubstring("exit status 1")))
		Expect(string(out)).To(ContainSubstring("authentication failed"))
		noCert := []string{"-addr", "127.0.0.1:0", "-etcd", cluster.endpoints(), "-etcd-dial-timeout", "2s",
			"-etcd-cacert", certs.caFile, "-etcd-user", "root", "-etcd-password-file", password}
		out, err = exec.CommandContext(ctx, bin, noCert...).CombinedOutput()
		Expect(err).To(MatchError(ContainSubstring("exit status 1")), string(out))
		Expect(string(out)).To(ContainSubstring("lastmodd: -etcd "))
	}, SpecTimeout(2*time.Minute))
})
