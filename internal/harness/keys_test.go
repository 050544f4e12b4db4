package harness

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// shares returns the keys of ks, hottest first, and each one's share of the
// stream.
func shares(ks *keyset) ([]string, map[string]float64) {
	counts := map[string]float64{}
	for _, k := range ks.keys {
		counts[k]++
	}
	keys := make([]string, 0, len(counts))
	for k, c := range counts {
		keys = append(keys, k)
		counts[k] = c / float64(len(ks.keys))
	}
	slices.SortFunc(keys, func(a, b string) int {
		if counts[a] != counts[b] {
			if counts[a] > counts[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys, counts
}

func TestZipfStreamIsSkewedAndScrambled(t *testing.T) {
	names := keyNames(10_000)
	keys, share := shares(newKeyset("zipf", names, 1))
	if share[keys[0]] < 0.05 {
		t.Errorf("the hottest key has %.3f of the operations, want more than 0.05", share[keys[0]])
	}
	var top100 float64
	for _, k := range keys[:100] {
		top100 += share[k]
	}
	if top100 < 0.4 {
		t.Errorf("the hottest 100 keys have %.2f of the operations, want more than 0.4", top100)
	}

	// Unscrambled, the hottest keys would be key:0, key:1, … in order.
	var hot []int
	for _, k := range keys[:10] {
		i, _ := strconv.Atoi(strings.TrimPrefix(k, "key:"))
		hot = append(hot, i)
	}
	adjacent := 0
	for i := 1; i < len(hot); i++ {
		if d := hot[i] - hot[i-1]; d == 1 || d == -1 {
			adjacent++
		}
	}
	if slices.Max(hot) < 100 || adjacent > 2 {
		t.Errorf("the hottest keys %v are bunched at the start or side by side", hot)
	}
}

func TestUniformStreamIsFlat(t *testing.T) {
	keys, share := shares(newKeyset("uniform", keyNames(10_000), 1))
	if len(keys) != 10_000 || share[keys[0]] > 0.0005 {
		t.Errorf("%d keys drawn, the hottest with %.5f of the operations; want all, none above 0.0005",
			len(keys), share[keys[0]])
	}
}

func TestHotStreamIsOneKey(t *testing.T) {
	if keys, _ := shares(newKeyset("hot", keyNames(10_000), 1)); len(keys) != 1 {
		t.Errorf("the hot stream has %d keys, want 1", len(keys))
	}
}

func TestRollsChooseTheMix(t *testing.T) {
	ks := newKeyset("uniform", keyNames(100), 1)
	writes := 0
	for _, r := range ks.rolls {
		if r >= 100 {
			t.Fatalf("roll %d is not below 100", r)
		}
		if r < 10 {
			writes++
		}
	}
	if got := float64(writes) / streamLen; got < 0.099 || got > 0.101 {
		t.Errorf("a 10%% write mix writes %.4f of the time", got)
	}
}

func TestSameSeedSameStream(t *testing.T) {
	names := keyNames(1000)
	a, b := newKeyset("zipf", names, 7), newKeyset("zipf", names, 7)
	if !slices.Equal(a.keys, b.keys) || !slices.Equal(a.rolls, b.rolls) {
		t.Error("one seed gave two streams")
	}
	if c := newKeyset("zipf", names, 8); slices.Equal(a.keys, c.keys) {
		t.Error("two seeds gave one stream")
	}
}
