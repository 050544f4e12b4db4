package stripe

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestStripe(t *testing.T) {
	RegisterFailHandler(Fail)
	// A spec that hangs, even one spinning on its own goroutine, fails
	// the suite within this bound, named, instead of waiting for go test's
	// global timeout; it is many times the suite's time under -race.
	suite, reporter := GinkgoConfiguration()
	suite.Timeout = min(suite.Timeout, 2*time.Minute)
	RunSpecs(t, "stripe", suite, reporter)
}
