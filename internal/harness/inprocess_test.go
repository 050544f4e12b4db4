package harness

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestInProcessIncrementsLoseNothing increments two keys from several
// goroutines at once through each in-process design's Increment, the
// read-modify-write workload's operation, and checks that every increment
// is there at the end and that a missing key is ErrMissing.
func TestInProcessIncrementsLoseNothing(t *testing.T) {
	const goroutines, each = 8, 300
	for _, d := range InProcess() {
		t.Run(d.Name, func(t *testing.T) {
			c, err := d.open()
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer func() {
				if err := c.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			inc, ok := c.(Incrementer)
			if !ok {
				t.Fatalf("%s offers %b but is no Incrementer", d.Name, d.Offers)
			}
			keys := []string{"even", "odd"}
			for _, k := range keys {
				if err := c.Set(k, 0); err != nil {
					t.Fatalf("Set(%s): %v", k, err)
				}
			}
			errs := make(chan error, goroutines)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						if err := inc.Increment(keys[(g+i)%2]); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("the incrementing goroutines have not finished after a minute")
			}
			close(errs)
			for err := range errs {
				t.Fatalf("Increment: %v", err)
			}
			for _, k := range keys {
				if got, err := c.Get(k); err != nil || got != goroutines*each/2 {
					t.Errorf("Get(%s) = %d, %v; want %d", k, got, err, goroutines*each/2)
				}
			}
			if err := inc.Increment("absent"); !errors.Is(err, ErrMissing) {
				t.Errorf("Increment(absent) = %v, want ErrMissing", err)
			}
			if _, err := c.Get("absent"); err == nil {
				t.Errorf("Increment(absent) made the key")
			}
		})
	}
}
