package actor

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestActor(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "actor")
}
