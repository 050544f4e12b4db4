package harness

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
)

// streamLen is the length of every key stream. Each worker cycles through
// the stream from its own offset; 2^20 draws reach most of 10^6 keys, and
// every batch size divides it.
const streamLen = 1 << 20

// zipfS is the exponent of the Zipf distribution: over 10^4 keys its
// hottest key gets about one operation in nine and its hottest 100 keys
// about half of them.
const zipfS = 1.1

// distNames are the key distributions.
var distNames = []string{"uniform", "zipf", "hot"}

func distByName(name string) (string, error) {
	if !slices.Contains(distNames, name) {
		return "", fmt.Errorf("unknown distribution %q", name)
	}
	return name, nil
}

// keyset is what the workers of a cell read and never write: the stream of
// keys, and for each position a roll in [0, 100) with which a mixed
// workload chooses between reading and writing.
type keyset struct {
	keys  []string
	rolls []uint8
}

// keyNames returns the n keys a store is prefilled with.
func keyNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = keyName(i)
	}
	return names
}

// keyName returns the i-th key of keyNames.
func keyName(i int) string { return "key:" + strconv.Itoa(i) }

// newKeyset draws a stream from names by dist. The generator is seeded
// with seed and dist, so the same flags give the same streams.
func newKeyset(dist string, names []string, seed uint64) *keyset {
	r := rand.New(rand.NewPCG(seed, uint64(slices.Index(distNames, dist))))
	var draw func() int
	switch dist {
	case "uniform":
		draw = func() int { return r.IntN(len(names)) }
	case "zipf":
		z := rand.NewZipf(r, zipfS, 1, uint64(len(names)-1))
		// Zipf's hottest ranks are its smallest numbers. A fixed
		// permutation scatters them over the key space, so that the hot
		// keys are neither neighbours nor the first ones written.
		perm := r.Perm(len(names))
		draw = func() int { return perm[z.Uint64()] }
	case "hot":
		hot := r.IntN(len(names))
		draw = func() int { return hot }
	}
	ks := &keyset{keys: make([]string, streamLen), rolls: make([]uint8, streamLen)}
	for i := range ks.keys {
		ks.keys[i] = names[draw()]
		ks.rolls[i] = uint8(r.IntN(100))
	}
	return ks
}
