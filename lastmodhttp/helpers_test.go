package lastmodhttp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// response is what a spec checks of an HTTP response.
type response struct {
	status int
	header http.Header
	body   string
}

// server is an httptest server with the handler mounted at /kv.
type server struct {
	srv    *httptest.Server
	client *http.Client
}

func newServer(h http.Handler) *server { return newServerWith(h, nil) }

// newServerWith is newServer with configure applied to the http.Server
// before it starts, for its timeouts and base context.
func newServerWith(h http.Handler, configure func(*http.Server)) *server {
	mux := http.NewServeMux()
	mux.Handle("/kv/", http.StripPrefix("/kv", h))
	srv := httptest.NewUnstartedServer(mux)
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	return &server{srv: srv, client: srv.Client()}
}

// dialStream opens a change stream on a raw connection that the spec
// never reads from, like a client that stopped reading.
func (s *server) dialStream() net.Conn {
	conn, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	Expect(err).NotTo(HaveOccurred())
	_, err = io.WriteString(conn, "GET /kv/ HTTP/1.1\r\nHost: lastmodhttp\r\nAccept: text/event-stream\r\n\r\n")
	Expect(err).NotTo(HaveOccurred())
	return conn
}

// close closes the server. httptest's Close waits for every handler to
// return; one that does not fails the spec within 30 s, named.
func (s *server) close() {
	GinkgoHelper()
	closed := make(chan struct{})
	go func() { s.srv.Close(); close(closed) }()
	Eventually(closed).WithTimeout(30*time.Second).Should(BeClosed(), "the server's handlers to return at its Close")
}

// do sends one request; headers come in name, value pairs.
func (s *server) do(method, path, body string, headers ...string) response {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	Expect(err).NotTo(HaveOccurred())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// waitFor fails the spec, naming what it waited for, unless wg is done
// within 30 s (many times what the suite's waits take under -race), so a
// goroutine that hangs shows up as a failure, not as a hung suite.
func waitFor(wg *sync.WaitGroup, what string) {
	GinkgoHelper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	Eventually(done).WithTimeout(30*time.Second).Should(BeClosed(), what)
}

// startStore starts a store of V that the spec shuts down.
func startStore[V any](cfg store.Config, opts ...store.Option[string, V]) *store.Store[string, V] {
	s, err := store.New[string, V](cfg, opts...)
	Expect(err).NotTo(HaveOccurred())
	Expect(s.Start(context.Background())).To(Succeed())
	return s
}

var (
	_ lastmodhttp.Backend[int] = (*store.Store[string, int])(nil)
	_ lastmodhttp.Resumer[int] = (*store.Store[string, int])(nil)
)
