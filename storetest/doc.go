// Package storetest is lastmodstore's conformance suite: the Ginkgo specs
// of the behaviour every implementation of the store's method set shares,
// to run against your own.
//
// Call Specs inside a container of a Ginkgo suite, with an Implementation
// that opens your store:
//
//	var _ = Describe("my store", func() {
//		storetest.Specs(storetest.Implementation{
//			New: func(cfg store.Config, opts ...store.Option[string, int]) (storetest.Store[int], error) {
//				s, err := mystore.New(cfg, opts...)
//				if s == nil {
//					return nil, err // a nil interface, not one holding a nil *Store
//				}
//				return s, err
//			},
//			Nil:   (*mystore.Store[int])(nil),
//			Lacks: map[storetest.Feature]string{storetest.Capacity: "it holds any number of items"},
//		})
//	})
//
// and run the suite with RegisterFailHandler(Fail) and RunSpecs as usual.
// Every spec shuts its stores down and then checks that no goroutine it
// started is left (goleak). A spec that needs a Feature the Implementation
// lacks is skipped, with the reason the Implementation gives. Specs of
// other key and value types than string and int, and of what only the
// in-process stores have (Watch details, snapshots, loading), stay in the
// suites of lastmodstore's own packages.
package storetest
