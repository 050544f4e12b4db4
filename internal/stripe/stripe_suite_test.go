package stripe

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestStripe(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "stripe")
}
