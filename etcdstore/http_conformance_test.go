package etcdstore_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/lastmodstore/lastmodstore/internal/overhttp"
	"github.com/lastmodstore/lastmodstore/storetest"
)

// httpFront serves the stores of the conformance specs run through
// lastmodhttp; BeforeSuite starts it, AfterSuite closes it.
var httpFront = overhttp.NewFront()

// The conformance specs again, each store now behind lastmodhttp's
// handler and driven through its Client: what passes here is kept by
// the HTTP layer over etcd. Skipped are what etcdstore lacks and what
// HTTP cannot carry (overhttp.Lacks), each with its reason.
var _ = Describe("conformance through lastmodhttp's Client and handler (storetest), on one member", func() {
	storetest.Specs(httpFront.Implementation(etcdImplementation))
})
