package lastmodhttp_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/lastmodstore/lastmodstore/internal/overhttp"
	"github.com/lastmodstore/lastmodstore/lastmodhttp"
	"github.com/lastmodstore/lastmodstore/store"
	"github.com/lastmodstore/lastmodstore/storetest"
)

// front serves the stores of the conformance specs; BeforeSuite starts it
// before any spec's leak check takes its baseline.
var front = overhttp.NewFront()

var _ = BeforeSuite(front.Start)

var _ = AfterSuite(front.Close)

// A Remote is a storetest.Store: the Client has the store's string-key
// method set but the lifecycle, which is the server's.
var _ storetest.Store[int] = (*overhttp.Remote)(nil)

var _ lastmodhttp.Backend[int] = (*lastmodhttp.Client[int])(nil)

var _ = Describe("the actor design through the Client and the handler (storetest)", func() {
	storetest.Specs(front.Implementation(storetest.Implementation{
		New: func(cfg store.Config, opts ...store.Option[string, int]) (storetest.Store[int], error) {
			s, err := store.New(cfg, opts...)
			if s == nil {
				return nil, err
			}
			return s, err
		},
	}))
})
