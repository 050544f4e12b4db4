package main

import (
	"context"
	"errors"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// etcdMetrics count the requests lastmodd's etcd client sends, each
// attempt on its own (the client retries some), by gRPC method: a short
// name such as KV/Range or KV/Txn, a bounded set.
type etcdMetrics struct {
	requests *prometheus.CounterVec // method
	errors   *prometheus.CounterVec // method, code
	timeouts *prometheus.CounterVec // method
}

func newEtcdMetrics() *etcdMetrics {
	return &etcdMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lastmodd_etcd_requests_total",
			Help: "Requests sent to the etcd cluster, each attempt counted, by gRPC method (KV/Range, KV/Txn, Watch/Watch, …).",
		}, []string{"method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lastmodd_etcd_request_errors_total",
			Help: "Requests to the etcd cluster that failed, by gRPC method and status code (Unavailable, DeadlineExceeded, …); the timeouts among them are counted again in lastmodd_etcd_request_timeouts_total.",
		}, []string{"method", "code"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lastmodd_etcd_request_timeouts_total",
			Help: "Requests to the etcd cluster that ran out of time (-etcd-request-timeout, or /readyz's own bound), by gRPC method.",
		}, []string{"method"}),
	}
}

func (m *etcdMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.errors, m.timeouts}
}

// unary counts one request; it is chained after the client's own retry
// interceptor, so it sees each attempt.
func (m *etcdMetrics) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	m.count(ctx, method, err)
	return err
}

// stream counts the opening of a stream (a watch, a lease's keep-alive);
// a stream that ends later is no error of a request.
func (m *etcdMetrics) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	m.count(ctx, method, err)
	return cs, err
}

func (m *etcdMetrics) count(ctx context.Context, method string, err error) {
	method = shortMethod(method)
	m.requests.WithLabelValues(method).Inc()
	if err == nil {
		return
	}
	code := status.Code(err)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code = codes.DeadlineExceeded
	}
	m.errors.WithLabelValues(method, code.String()).Inc()
	if code == codes.DeadlineExceeded {
		m.timeouts.WithLabelValues(method).Inc()
	}
}

// shortMethod turns "/etcdserverpb.KV/Range" into "KV/Range".
func shortMethod(full string) string {
	s := strings.TrimPrefix(full, "/")
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
