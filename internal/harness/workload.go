package harness

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/lastmodstore/lastmodstore/store"
)

// An op performs one operation of a workload, at position p of the key
// stream.
type op func(p int) error

// A workload is a mix of operations on a cache.
type workload struct {
	name  string
	about string     // what one operation does, for the table's heading
	step  int        // stream positions one operation consumes: its batch size
	needs Capability // what a design must offer to run it
	// bind returns the operation on c over ks, building first, untimed,
	// whatever it reads. c offers what the workload needs.
	bind func(c Cache, ks *keyset) op
}

// batchSizes are the keys per call of the batch workloads. Each divides
// streamLen, so a batch never wraps around the end of the stream.
var batchSizes = []int{1, 4, 16, 64}

// allWorkloads returns every workload, in the order of the tables.
func allWorkloads() []workload {
	ws := []workload{
		mix("read-only", "Get", 0),
		mix("read-heavy", "90% Get, 10% Set", 10),
		mix("balanced", "50% Get, 50% Set", 50),
		mix("write-only", "Set", 100),
	}
	for _, n := range batchSizes {
		ws = append(ws, getMany(n))
	}
	for _, n := range batchSizes {
		ws = append(ws, setMany(n))
	}
	return append(ws, conditional(), readModifyWrite())
}

func workloadNames() []string {
	var names []string
	for _, w := range allWorkloads() {
		names = append(names, w.name)
	}
	return names
}

func workloadByName(name string) (workload, error) {
	for _, w := range allWorkloads() {
		if w.name == name {
			return w, nil
		}
	}
	return workload{}, fmt.Errorf("unknown workload %q", name)
}

// mix gets and sets single keys, writing at the stream positions whose
// roll is below writePercent.
func mix(name, about string, writePercent uint8) workload {
	return workload{name: name, about: about, step: 1, bind: func(c Cache, ks *keyset) op {
		return func(p int) error {
			if ks.rolls[p] < writePercent {
				return c.Set(ks.keys[p], p)
			}
			_, err := c.Get(ks.keys[p])
			return err
		}
	}}
}

func getMany(n int) workload {
	return workload{
		name:  "getmany-" + strconv.Itoa(n),
		about: "GetMany of " + keyCount(n) + "; one op is one call",
		step:  n,
		needs: Batches,
		bind: func(c Cache, ks *keyset) op {
			b := c.(Batcher)
			return func(p int) error {
				return b.GetMany(ks.keys[p : p+n])
			}
		},
	}
}

func keyCount(n int) string {
	if n == 1 {
		return "1 key"
	}
	return strconv.Itoa(n) + " keys"
}

// setManyDraws is how many stream positions the SetMany workloads make
// into maps before timing.
const setManyDraws = 1 << 16

func setMany(n int) workload {
	return workload{
		name:  "setmany-" + strconv.Itoa(n),
		about: "SetMany of " + keyCount(n) + " (fewer when a skewed batch repeats one); one op is one call",
		step:  n,
		needs: Batches,
		bind: func(c Cache, ks *keyset) op {
			b := c.(Batcher)
			// SetMany takes a map. Building one per call would add the same
			// cost to both designs and blur the difference between them,
			// so the maps are built here and cycled.
			batches := make([]map[string]int, setManyDraws/n)
			for i := range batches {
				batches[i] = make(map[string]int, n)
				for j, key := range ks.keys[i*n : (i+1)*n] {
					batches[i][key] = i*n + j
				}
			}
			return func(p int) error {
				return b.SetMany(batches[p/n%len(batches)])
			}
		},
	}
}

// conditional is the read-modify-write of optimistic concurrency: one
// operation increments a counter, however many attempts that takes.
func conditional() workload {
	return workload{
		name:  "conditional",
		about: "Get, then CompareAndSet on the revision read, again on conflict: one counter increment",
		step:  1,
		needs: Revisions,
		bind: func(c Cache, ks *keyset) op {
			v := c.(Versioned)
			return func(p int) error {
				key := ks.keys[p]
				for {
					value, revision, err := v.GetRevision(key)
					if err != nil {
						return err
					}
					err = v.CompareAndSet(key, value+1, revision)
					if !errors.Is(err, store.ErrConflict) {
						return err
					}
				}
			}
		},
	}
}

// readModifyWrite is the same increment as conditional's, made in one
// step with the best primitive each design has: what a user who has
// Update or Compute writes instead of a retry loop.
func readModifyWrite() workload {
	return workload{
		name:  "read-modify-write",
		about: "one counter increment in one atomic step: Update, Compute, or a compare-and-swap loop where that is all there is",
		step:  1,
		needs: Increments,
		bind: func(c Cache, ks *keyset) op {
			inc := c.(Incrementer)
			return func(p int) error {
				return inc.Increment(ks.keys[p])
			}
		},
	}
}
