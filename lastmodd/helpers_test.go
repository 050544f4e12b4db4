package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// logBuffer collects what lastmodd logs, for specs to read while it runs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the JSON log records (-log-format json) whose msg is
// msg, every one when msg is empty.
func (b *logBuffer) records(msg string) []map[string]any {
	GinkgoHelper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		Expect(json.Unmarshal([]byte(line), &rec)).To(Succeed(), "a log line is one JSON object: %q", line)
		if msg == "" || rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// inProcess is lastmodd's run in this test binary: quicker to start than
// the built process, for specs that need no signal or crash.
type inProcess struct {
	urls   map[string]string
	url    string
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
	ended  bool
	err    error
}

// startInProcess calls run with args in a goroutine and reads the
// addresses it prints; a run that fails before it serves fails the spec
// with its error.
func startInProcess(args ...string) *inProcess {
	GinkgoHelper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &inProcess{logs: &logBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, args, pw, io.MultiWriter(GinkgoWriter, p.logs))
		_ = pw.Close()
		p.done <- err
	}()
	p.urls = readAddresses(bufio.NewReader(pr), func() { cancel() })
	p.url = p.urls["listening on"]
	// run writes nothing more to stdout; the pipe must not hold it up
	// if it did.
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return p
}

// stop cancels run's context and returns its error, failing the spec if
// run has not returned within processTimeout. It may be called again.
func (p *inProcess) stop() error {
	GinkgoHelper()
	if p.ended {
		return p.err
	}
	p.cancel()
	select {
	case p.err = <-p.done:
		p.ended = true
	case <-time.After(processTimeout):
		Fail(fmt.Sprintf("run had not returned %v after its context ended", processTimeout))
	}
	return p.err
}

// scrape reads url (a /metrics) with client and returns every sample as
// name{labels} → value, the labels sorted by name, through the text
// parser of prometheus/common.
func scrape(client *http.Client, url string, headers ...string) map[string]float64 {
	GinkgoHelper()
	status, _, body := do(client, "GET", url, "", headers...)
	Expect(status).To(Equal(200), body)
	return parseMetrics(body)
}

// certs are PEM files for TLS specs: a CA, a server certificate it signed
// for 127.0.0.1, a client certificate it signed, and a client certificate
// a stranger CA signed.
type certs struct {
	dir                           string
	caFile, serverCert, serverKey string
	clientCert, clientKey         string
	strangerCert, strangerKey     string
	pool                          *x509.CertPool
	client, stranger              tls.Certificate
}

// makeCerts writes a fresh set of certificates into a temporary directory.
func makeCerts() *certs {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	c := &certs{dir: dir, pool: x509.NewCertPool()}
	caKey, ca := newCA("lastmodd test CA")
	c.pool.AddCert(ca)
	strangerKey, stranger := newCA("a stranger CA")
	c.caFile = writePEM(dir, "ca.pem", "CERTIFICATE", ca.Raw)

	serverKey, serverDER := issue(ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	c.serverCert = writePEM(dir, "server.pem", "CERTIFICATE", serverDER)
	c.serverKey = writeKey(dir, "server-key.pem", serverKey)

	clientKey, clientDER := issue(ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "a client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	c.clientCert = writePEM(dir, "client.pem", "CERTIFICATE", clientDER)
	c.clientKey = writeKey(dir, "client-key.pem", clientKey)
	c.client = tls.Certificate{Certificate: [][]byte{clientDER}, PrivateKey: clientKey}

	otherKey, otherDER := issue(stranger, strangerKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "a stranger"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	c.strangerCert = writePEM(dir, "stranger.pem", "CERTIFICATE", otherDER)
	c.strangerKey = writeKey(dir, "stranger-key.pem", otherKey)
	c.stranger = tls.Certificate{Certificate: [][]byte{otherDER}, PrivateKey: otherKey}
	return c
}

// httpsClient trusts c's CA and presents the client certificate given,
// if any, whatever CAs the server asks for (Go's client would otherwise
// keep back one the server's CAs did not sign).
func (c *certs) httpsClient(clientCert ...tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}
	if len(clientCert) > 0 {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &clientCert[0], nil
		}
	}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: cfg},
	}
}

var serial = big.NewInt(1)

func newCA(name string) (*ecdsa.PrivateKey, *x509.Certificate) {
	GinkgoHelper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	serial.Add(serial, big.NewInt(1))
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).Set(serial),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	cert, err := x509.ParseCertificate(der)
	Expect(err).NotTo(HaveOccurred())
	return key, cert
}

func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (*ecdsa.PrivateKey, []byte) {
	GinkgoHelper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	serial.Add(serial, big.NewInt(1))
	tmpl.SerialNumber = new(big.Int).Set(serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	Expect(err).NotTo(HaveOccurred())
	return key, der
}

func writePEM(dir, name, kind string, der []byte) string {
	GinkgoHelper()
	path := filepath.Join(dir, name)
	Expect(os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)).To(Succeed())
	return path
}

func writeKey(dir, name string, key *ecdsa.PrivateKey) string {
	GinkgoHelper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	Expect(err).NotTo(HaveOccurred())
	return writePEM(dir, name, "PRIVATE KEY", der)
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(name, content string) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), name)
	Expect(os.WriteFile(path, []byte(content), 0o600)).To(Succeed())
	return path
}

// isTLSRefusal reports whether err is a request the server refused in
// the TLS handshake: with TLS 1.3 the client hears of it as an alert
// when it first reads.
func isTLSRefusal(err error) bool {
	var alert tls.AlertError
	return errors.As(err, &alert) || strings.Contains(err.Error(), "remote error: tls:")
}
