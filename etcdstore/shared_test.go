package etcdstore_test

import (
	"errors"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// shared is a single-member cluster the examples share, sharedTrio a
// three-member one the benchmarks share; each is started on first use and
// stopped by TestMain.
var shared, sharedTrio struct {
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

// trioClient returns a new client of the shared three-member cluster; the
// caller closes it.
func trioClient() (*clientv3.Client, error) {
	sharedTrio.once.Do(func() { sharedTrio.c, sharedTrio.err = newCluster(3) })
	if sharedTrio.err != nil {
		return nil, sharedTrio.err
	}
	return sharedTrio.c.client()
}

// closeShared closes the shared clusters; the error names what did not
// stop.
func closeShared() error {
	var errs []error
	for _, c := range []*cluster{shared.c, sharedTrio.c} {
		if c != nil {
			errs = append(errs, c.close())
		}
	}
	return errors.Join(errs...)
}
