package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// bin is the lastmodd binary the process specs run, built once, and
// etcdBin the etcd member (internal/etcdmember) the etcd specs run as
// processes, so that no etcd goroutine ever runs in the test binary.
var bin, etcdBin string

var _ = BeforeSuite(func(ctx SpecContext) {
	dir, err := os.MkdirTemp("", "lastmodd-test")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	bin, etcdBin = filepath.Join(dir, "lastmodd"), filepath.Join(dir, "etcdmember")
	build := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), ".", "./internal/etcdmember")
	build.Stdout, build.Stderr = GinkgoWriter, GinkgoWriter
	Expect(build.Run()).To(Succeed())
}, NodeTimeout(4*time.Minute))

// daemon is a lastmodd process under test.
type daemon struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	url    string
	// urls holds every address it printed, by what it is: "listening
	// on" (url), "metrics on", "debug on".
	urls map[string]string
}

// processTimeout bounds how long lastmodd may take to print its address,
// and to exit after SIGTERM (its -shutdown-timeout is 10 s by default):
// many times what either takes under -race on a busy machine.
const processTimeout = 30 * time.Second

// startDaemon runs the binary with args and reads the addresses it prints.
// A process that has not printed its main address within processTimeout
// is killed, and the spec fails with what it printed.
func startDaemon(bin string, args ...string) *daemon {
	GinkgoHelper()
	return startDaemonLogging(bin, GinkgoWriter, args...)
}

// startDaemonLogging is startDaemon with lastmodd's stderr, its log,
// copied to logs as well as to the spec's output.
func startDaemonLogging(bin string, logs io.Writer, args ...string) *daemon {
	GinkgoHelper()
	return startCommandLogging(exec.Command(bin, args...), logs)
}

// startCommand is startDaemon for a command made ready to run, with an
// environment of its own, say.
func startCommand(cmd *exec.Cmd) *daemon {
	GinkgoHelper()
	return startCommandLogging(cmd, GinkgoWriter)
}

func startCommandLogging(cmd *exec.Cmd, logs io.Writer) *daemon {
	GinkgoHelper()
	if logs == GinkgoWriter {
		cmd.Stderr = GinkgoWriter
	} else {
		cmd.Stderr = io.MultiWriter(GinkgoWriter, logs)
	}
	out, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	d := &daemon{cmd: cmd, stdout: bufio.NewReader(out)}
	// A spec that fails before it stops lastmodd must not leave it
	// running.
	DeferCleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	d.urls = readAddresses(d.stdout, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	d.url = d.urls["listening on"]
	return d
}

// readAddresses reads the "lastmodd: WHAT URL" lines lastmodd prints up
// to its main address, the last. If none comes within processTimeout it
// calls kill, which must end the output, and fails the spec.
func readAddresses(stdout *bufio.Reader, kill func()) map[string]string {
	GinkgoHelper()
	type read struct {
		lines []string
		err   error
	}
	first := make(chan read, 1)
	go func() {
		var r read
		for {
			line, err := stdout.ReadString('\n')
			if err != nil {
				r.err = err
				break
			}
			r.lines = append(r.lines, strings.TrimSpace(line))
			if strings.HasPrefix(line, "lastmodd: listening on ") {
				break
			}
		}
		first <- r
	}()
	var r read
	select {
	case r = <-first:
	case <-time.After(processTimeout):
		// Ending the process closes the pipe, which ends the read.
		kill()
		r = <-first
		Fail(fmt.Sprintf("lastmodd printed no address within %v; killed, it had printed %q (its stderr is in the spec's output)", processTimeout, r.lines))
	}
	Expect(r.err).NotTo(HaveOccurred(), "lastmodd printed no address; it printed %q", r.lines)
	urls := make(map[string]string)
	for _, line := range r.lines {
		rest, ok := strings.CutPrefix(line, "lastmodd: ")
		Expect(ok).To(BeTrue(), line)
		i := strings.LastIndexByte(rest, ' ')
		Expect(i).To(BeNumerically(">", 0), line)
		Expect(rest[i+1:]).To(MatchRegexp(`^https?://127\.0\.0\.1:[1-9][0-9]*$`))
		urls[rest[:i]] = rest[i+1:]
	}
	return urls
}

// stop sends SIGTERM and returns the exit error; see wait.
func (d *daemon) stop() error {
	GinkgoHelper()
	Expect(d.cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	return d.wait()
}

// wait returns the exit error once lastmodd has exited. A process that
// has not exited within processTimeout is killed, and the spec fails
// with what it printed meanwhile.
func (d *daemon) wait() error {
	GinkgoHelper()
	var printed strings.Builder
	exited := make(chan error, 1)
	go func() {
		_, _ = io.Copy(&printed, d.stdout)
		exited <- d.cmd.Wait()
	}()
	select {
	case err := <-exited:
		return err
	case <-time.After(processTimeout):
		// Killed, it closes its stdout, and the copy and Wait end.
		_ = d.cmd.Process.Kill()
		<-exited
		Fail(fmt.Sprintf("lastmodd had not exited within %v; killed, it had printed %q since it started (its stderr is in the spec's output)", processTimeout, printed.String()))
		return nil
	}
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
			{"-read-header-timeout", "0"}, {"-read-timeout", "0"}, {"-write-timeout", "-1s"}, {"-idle-timeout", "0"},
			{"-stream-write-timeout", "0"},
		} {
			Expect(run(context.Background(), args, io.Discard, io.Discard)).NotTo(Succeed(), strings.Join(args, " "))
		}
		c, err := parseFlags([]string{"-eviction", "oldest", "-max-size", "3", "-lock-free-reads"}, io.Discard)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.store).To(Equal(store.Config{Eviction: store.EvictOldest, MaxSize: 3, LockFreeReads: true}))
		Expect(c.timeouts).To(Equal(timeouts{
			readHeader: 10 * time.Second, read: 30 * time.Second, write: time.Minute, idle: 2 * time.Minute,
			streamWrite: lastmodhttp.DefaultStreamWriteTimeout,
		}), "every client is bounded by default")
	})

	It("serves conditional requests as a process, saves its snapshot at SIGTERM and loads it again", func(ctx SpecContext) {
		snap := filepath.Join(GinkgoT().TempDir(), "store.snap")

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

	It("exits 0 at SIGTERM within its shutdown timeout while a change stream's client never reads", func(ctx SpecContext) {
		// The stream write timeout is longer than the shutdown timeout:
		// only cutting the blocked write at the stop can end it in time.
		d := startDaemon(bin, "-addr", "127.0.0.1:0", "-shutdown-timeout", "5s", "-stream-write-timeout", "1h")
		stream := dialStream(d)
		defer stream.Close()

		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		big := `"` + strings.Repeat("x", 900<<10) + `"`
		for i := range 40 {
			status, _, _ := do(client, "PUT", d.url+"/kv/big"+strconv.Itoa(i), big)
			Expect(status).To(Equal(201))
		}
		Expect(d.stop()).To(Succeed(), "lastmodd exits 0: the stream did not hold the stop up past -shutdown-timeout")
	}, SpecTimeout(time.Minute))

	It("cuts a request whose body trickles in and a connection left idle, while a change stream lives on", func(ctx SpecContext) {
		d := startDaemon(bin, "-addr", "127.0.0.1:0",
			"-read-header-timeout", "1s", "-read-timeout", "1s", "-write-timeout", "1s", "-idle-timeout", "1s")
		defer func() { Expect(d.stop()).To(Succeed()) }()
		addr := strings.TrimPrefix(d.url, "http://")
		// A connection per request: lastmodd closes idle ones after 1s,
		// and a PUT on one it has just closed fails.
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

		req, err := http.NewRequestWithContext(ctx, "GET", d.url+"/kv/", nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Accept", "text/event-stream")
		streams := &http.Client{} // no timeout: a stream has no end
		defer streams.CloseIdleConnections()
		resp, err := streams.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(200))
		events := bufio.NewReader(resp.Body)

		By("a PUT whose body comes one byte at a time")
		slow, err := net.Dial("tcp", addr)
		Expect(err).NotTo(HaveOccurred())
		defer slow.Close()
		_, err = io.WriteString(slow, "PUT /kv/slow HTTP/1.1\r\nHost: lastmodd\r\nContent-Length: 1000\r\n\r\n\"")
		Expect(err).NotTo(HaveOccurred())
		stopTrickle, trickled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(trickled)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stopTrickle:
					return
				case <-tick.C:
				}
				if _, err := io.WriteString(slow, "x"); err != nil {
					return // the server cut the connection
				}
			}
		}()
		Expect(slow.SetReadDeadline(time.Now().Add(15 * time.Second))).To(Succeed())
		_, err = io.ReadAll(slow)
		close(stopTrickle)
		Eventually(trickled).WithTimeout(10*time.Second).Should(BeClosed(), "the trickling writer to stop")
		Expect(errors.Is(err, os.ErrDeadlineExceeded)).To(BeFalse(), "lastmodd cut the trickling PUT at its -read-timeout")
		status, _, _ := do(client, "GET", d.url+"/kv/slow", "")
		Expect(status).To(Equal(404), "nothing was written")

		By("a kept-alive connection with no next request")
		idle, err := net.Dial("tcp", addr)
		Expect(err).NotTo(HaveOccurred())
		defer idle.Close()
		_, err = io.WriteString(idle, "GET /kv/slow HTTP/1.1\r\nHost: lastmodd\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(idle.SetReadDeadline(time.Now().Add(15 * time.Second))).To(Succeed())
		rd := bufio.NewReader(idle)
		answer, err := http.ReadResponse(rd, nil)
		Expect(err).NotTo(HaveOccurred())
		_, err = io.Copy(io.Discard, answer.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(answer.Body.Close()).To(Succeed())
		Expect(answer.StatusCode).To(Equal(404))
		_, err = rd.ReadByte()
		Expect(err).To(MatchError(io.EOF), "lastmodd closed the idle connection at its -idle-timeout")

		By("the stream, older than every timeout, still delivering")
		status, _, _ = do(client, "PUT", d.url+"/kv/after", "1")
		Expect(status).To(Equal(201))
		for {
			line, err := events.ReadString('\n')
			Expect(err).NotTo(HaveOccurred(), "the stream is still open")
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				Expect(data).To(ContainSubstring(`"key":"after"`))
				break
			}
		}
	}, SpecTimeout(time.Minute))
})

// dialStream opens a change stream on a raw connection and reads its
// response header, so the stream is under way, and nothing more: a client
// that never reads.
func dialStream(d *daemon) net.Conn {
	GinkgoHelper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(d.url, "http://"))
	Expect(err).NotTo(HaveOccurred())
	_, err = io.WriteString(conn, "GET /kv/ HTTP/1.1\r\nHost: lastmodd\r\nAccept: text/event-stream\r\n\r\n")
	Expect(err).NotTo(HaveOccurred())
	Expect(conn.SetReadDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 16), nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.StatusCode).To(Equal(200))
	return conn
}
