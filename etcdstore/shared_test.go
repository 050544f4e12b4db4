package etcdstore_test

import (
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// shared is a single-member cluster the examples and benchmarks share,
// started on first use and stopped by TestMain.
var shared struct {
	once sync.Once
	c    *cluster
	err  error
}

// sharedClient returns a new client of the shared cluster; the caller
// closes it.
func sharedClient() (*clientv3.Client, error) {
	shared.once.Do(func() { shared.c, shared.err = newCluster(1) })
	if shared.err != nil {
		return nil, shared.err
	}
	return shared.c.client()
}

func closeShared() {
	if shared.c != nil {
		shared.c.close()
	}
}
