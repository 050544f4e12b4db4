package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lastmodstore/lastmodstore/etcdstore"
	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
)

// etcdPasswordEnv names the environment variable -etcd-user's password
// is read from when -etcd-password-file is not given: a password on the
// command line would show in ps.
const etcdPasswordEnv = "LASTMODD_ETCD_PASSWORD"

// readyTimeoutMost bounds /readyz's question to the cluster: a load
// balancer's probe gives up after a second or two, and a cluster slower
// than that to answer is no place to send requests either.
const readyTimeoutMost = 2 * time.Second

// etcdConfig is what the -etcd flags say; endpoints is empty for the
// embedded store.
type etcdConfig struct {
	endpoints      []string
	prefix         string
	dialTimeout    time.Duration
	requestTimeout time.Duration
	caCert         string
	cert, key      string
	user           string
	passwordFile   string
}

// etcdCredentials are what etcdConfig names in files and the
// environment, read before anything starts.
type etcdCredentials struct {
	tls      *tls.Config // nil: plain connections
	password string
}

// readEtcdCredentials reads the TLS files and the password the flags
// name; errors name the flag.
func readEtcdCredentials(c etcdConfig, getenv func(string) string) (etcdCredentials, error) {
	var cr etcdCredentials
	if c.caCert != "" || c.cert != "" {
		cr.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.caCert != "" {
		pem, err := os.ReadFile(c.caCert)
		if err != nil {
			return cr, fmt.Errorf("-etcd-cacert: %w", err)
		}
		cr.tls.RootCAs = x509.NewCertPool()
		if !cr.tls.RootCAs.AppendCertsFromPEM(pem) {
			return cr, fmt.Errorf("-etcd-cacert %s: no PEM certificate in it", c.caCert)
		}
	}
	if c.cert != "" {
		pair, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			return cr, fmt.Errorf("-etcd-cert %s, -etcd-key %s: %w", c.cert, c.key, err)
		}
		cr.tls.Certificates = []tls.Certificate{pair}
	}
	if c.user == "" {
		return cr, nil
	}
	if c.passwordFile != "" {
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return cr, fmt.Errorf("-etcd-password-file: %w", err)
		}
		cr.password = strings.TrimRight(string(b), "\r\n")
		if cr.password == "" {
			return cr, fmt.Errorf("-etcd-password-file %s is empty", c.passwordFile)
		}
		return cr, nil
	}
	if cr.password = getenv(etcdPasswordEnv); cr.password == "" {
		return cr, fmt.Errorf("-etcd-user %s needs a password: put it in a file named by -etcd-password-file, or in $%s", c.user, etcdPasswordEnv)
	}
	return cr, nil
}

// etcdBackend is an etcdstore over a cluster that any number of lastmodd
// replicas share: ETags are the cluster's revisions, the same on every
// replica, and a change stream resumes on any of them.
type etcdBackend struct {
	s            *etcdstore.Store[json.RawMessage]
	cli          *clientv3.Client
	prefix       string
	readyTimeout time.Duration
	m            *etcdMetrics
}

// openEtcd connects to the cluster and starts a store over it. Without
// -etcd-user it sends nothing yet, so it succeeds with the cluster down
// (/readyz answers 503 until it comes); with it, it authenticates within
// -etcd-dial-timeout or fails.
func openEtcd(c config, cr etcdCredentials, log *slog.Logger) (*etcdBackend, error) {
	m := newEtcdMetrics()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   c.etcd.endpoints,
		DialTimeout: c.etcd.dialTimeout,
		TLS:         cr.tls,
		Username:    c.etcd.user,
		Password:    cr.password,
		Logger:      zapToSlog(log.With("component", "etcd-client")),
		DialOptions: []grpc.DialOption{
			// gRPC's own backoff grows to two minutes: a replica would
			// stay unready that long after its cluster came back.
			grpc.WithConnectParams(grpc.ConnectParams{
				Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
				MinConnectTimeout: c.etcd.dialTimeout,
			}),
			grpc.WithChainUnaryInterceptor(m.unary),
			grpc.WithChainStreamInterceptor(m.stream),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("-etcd %s: %w", strings.Join(c.etcd.endpoints, ","), err)
	}
	s, err := etcdstore.New[json.RawMessage](cli, etcdstore.Config{
		Prefix:         c.etcd.prefix,
		RequestTimeout: c.etcd.requestTimeout,
		TTL:            c.store.TTL,
	})
	if err == nil {
		err = s.Start(context.Background())
	}
	if err != nil {
		return nil, errors.Join(err, cli.Close())
	}
	return &etcdBackend{
		s: s, cli: cli, prefix: c.etcd.prefix, m: m,
		readyTimeout: min(c.etcd.requestTimeout, readyTimeoutMost),
	}, nil
}

func (e *etcdBackend) http() lastmodhttp.Backend[json.RawMessage] { return e.s }

// ready asks the cluster a linearizable question, which needs a leader
// and a quorum: a replica whose cluster cannot answer writes is not
// ready, even if one member still answers reads.
func (e *etcdBackend) ready() error {
	if !e.s.IsRunning() {
		return store.ErrNotRunning
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.readyTimeout)
	defer cancel()
	if _, err := e.cli.Get(ctx, e.prefix, clientv3.WithCountOnly()); err != nil {
		return fmt.Errorf("etcd does not answer: %w", err)
	}
	return nil
}

func (e *etcdBackend) stats() (store.Stats, error) { return e.s.Stats() }

func (e *etcdBackend) collectors() []prometheus.Collector { return e.m.collectors() }

// saves is false: the items live in the cluster, there is nothing to save.
func (e *etcdBackend) saves() bool { return false }

// close stops the store, then closes the client the store used.
func (e *etcdBackend) close() error {
	return errors.Join(e.s.Shutdown(), e.cli.Close())
}

// logValue is the effective etcd configuration; it names files, never
// holds a password.
func (c etcdConfig) logValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoints", strings.Join(c.endpoints, ",")),
		slog.String("prefix", c.prefix),
		slog.Duration("dial_timeout", c.dialTimeout),
		slog.Duration("request_timeout", c.requestTimeout),
		slog.String("cacert", c.caCert),
		slog.String("cert", c.cert),
		slog.String("user", c.user),
	)
}
