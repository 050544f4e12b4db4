package storetest_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/lastmodstore/lastmodstore/mutexstore"
	"github.com/lastmodstore/lastmodstore/store"
	"github.com/lastmodstore/lastmodstore/storetest"
)

// Specs declares the conformance specs in a container of the caller's
// Ginkgo suite; here, for the mutex design, which has every feature.
// (The suite runs them: an Example cannot.)
func ExampleSpecs() {
	_ = Describe("the mutex design", func() {
		storetest.Specs(storetest.Implementation{
			New: func(cfg store.Config, opts ...store.Option[string, int]) (storetest.Store[int], error) {
				s, err := mutexstore.New(cfg, opts...)
				if s == nil {
					return nil, err
				}
				return s, err
			},
			Nil: (*mutexstore.Store[string, int])(nil),
		})
	})
}
