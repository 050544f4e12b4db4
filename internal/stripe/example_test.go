package stripe_test

import (
	"fmt"
	"sync"

	"github.com/lastmodstore/lastmodstore/internal/stripe"
)

func ExampleCounter() {
	hits := stripe.New()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				hits.Inc()
			}
		})
	}
	wg.Wait()
	hits.Add(8)
	fmt.Println(hits.Load())
	// Output: 1008
}
