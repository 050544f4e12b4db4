package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/store"
)

// daemon is a lastmodd process under test.
type daemon struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	url    string
}

// startDaemon runs the binary with args and reads the address it prints.
func startDaemon(bin string, args ...string) *daemon {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = GinkgoWriter
	out, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	d := &daemon{cmd: cmd, stdout: bufio.NewReader(out)}
	line, err := d.stdout.ReadString('\n')
	Expect(err).NotTo(HaveOccurred(), "lastmodd printed no address")
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "lastmodd: listening on ")
	Expect(ok).To(BeTrue(), line)
	Expect(addr).To(MatchRegexp(`^http://127\.0\.0\.1:[1-9][0-9]*$`))
	d.url = addr
	return d
}

// stop sends SIGTERM and returns the exit error.
func (d *daemon) stop() error {
	Expect(d.cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	_, _ = io.Copy(io.Discard, d.stdout)
	return d.cmd.Wait()
}

// do sends one request; headers come in name, value pairs.
func do(client *http.Client, method, url, body string, headers ...string) (int, http.Header, string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, resp.Header, string(b)
}

var _ = Describe("lastmodd", func() {
	var ignore goleak.Option
	BeforeEach(func() { ignore = goleak.IgnoreCurrent() })
	AfterEach(func() { Expect(goleak.Find(ignore)).To(Succeed()) })

	It("refuses bad flags before it starts anything", func() {
		for _, args := range [][]string{
			{"-eviction", "lru"}, {"-max-body", "0"}, {"-ttl", "soon"}, {"extra"}, {"-ttl", "-1s"}, {"-history", "-1"},
		} {
			Expect(run(context.Background(), args, io.Discard, io.Discard)).NotTo(Succeed(), strings.Join(args, " "))
		}
		c, err := parseFlags([]string{"-eviction", "oldest", "-max-size", "3", "-lock-free-reads"}, io.Discard)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.store).To(Equal(store.Config{Eviction: store.EvictOldest, MaxSize: 3, LockFreeReads: true}))
	})

	It("serves conditional requests as a process, saves its snapshot at SIGTERM and loads it again", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		bin := filepath.Join(dir, "lastmodd")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
		build.Stdout, build.Stderr = GinkgoWriter, GinkgoWriter
		Expect(build.Run()).To(Succeed())
		snap := filepath.Join(dir, "store.snap")

		d := startDaemon(bin, "-addr", "127.0.0.1:0", "-snapshot", snap)
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		key := d.url + "/kv/greeting"

		status, h, _ := do(client, "PUT", key, `{"hello":"world"}`, "If-None-Match", "*")
		Expect(status).To(Equal(201))
		first := h.Get("ETag")
		Expect(first).To(MatchRegexp(`^"[0-9]+"$`))
		status, _, _ = do(client, "PUT", key, `{}`, "If-None-Match", "*")
		Expect(status).To(Equal(412))

		status, h, body := do(client, "GET", key, "")
		Expect(status).To(Equal(200))
		Expect(body).To(MatchJSON(`{"hello":"world"}`))
		lastModified := h.Get("Last-Modified")
		status, _, body = do(client, "GET", key, "", "If-None-Match", first)
		Expect(status).To(Equal(304))
		Expect(body).To(BeEmpty())
		status, _, _ = do(client, "GET", key, "", "If-Modified-Since", lastModified)
		Expect(status).To(Equal(304))

		status, h, _ = do(client, "PUT", key, `{"hello":"again"}`, "If-Match", first)
		Expect(status).To(Equal(200))
		second := h.Get("ETag")
		Expect(second).NotTo(Equal(first))
		status, h, _ = do(client, "PUT", key, `{"hello":"lost"}`, "If-Match", first)
		Expect(status).To(Equal(412))
		Expect(h.Get("ETag")).To(Equal(second))

		// A client that reconnects with the id of the last event it
		// had gets what it missed, then the live changes.
		openStream := func(headers ...string) (*http.Response, *bufio.Reader) {
			req, err := http.NewRequestWithContext(ctx, "GET", d.url+"/kv/", nil)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Accept", "text/event-stream")
			for i := 0; i+1 < len(headers); i += 2 {
				req.Header.Set(headers[i], headers[i+1])
			}
			resp, err := client.Do(req)
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.StatusCode).To(Equal(200))
			return resp, bufio.NewReader(resp.Body)
		}
		resumed, lines := openStream("Last-Event-ID", strings.Trim(first, `"`))
		Expect(lines.ReadString('\n')).To(Equal("id: "+strings.Trim(second, `"`)+"\n"), "the change after the one it had")
		Expect(resumed.Body.Close()).To(Succeed())

		// An open change stream must not hold the shutdown up.
		stream, _ := openStream()
		defer stream.Body.Close()

		Expect(d.stop()).To(Succeed(), "lastmodd exits 0 at SIGTERM")
		_, err := io.ReadAll(stream.Body)
		Expect(err).NotTo(HaveOccurred(), "the stream ended cleanly")
		info, err := os.Stat(snap)
		Expect(err).NotTo(HaveOccurred(), "the snapshot was written")
		Expect(info.Size()).To(BeNumerically(">", 0))

		d = startDaemon(bin, "-addr", "127.0.0.1:0", "-snapshot", snap)
		status, h, body = do(client, "GET", d.url+"/kv/greeting", "")
		Expect(status).To(Equal(200))
		Expect(body).To(MatchJSON(`{"hello":"again"}`))
		Expect(h.Get("ETag")).To(Equal(second), "the revision survives the snapshot")
		Expect(d.stop()).To(Succeed())
	}, SpecTimeout(2*time.Minute))
})
