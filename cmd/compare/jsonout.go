package main

import (
	"encoding/json"
	"io"
)

// jsonReport is the JSON form of a report: the machine, the settings, every
// measurement, and the actor/mutex ratio of every cell both designs ran.
type jsonReport struct {
	Machine     machine     `json:"machine"`
	DurationNs  int64       `json:"duration_ns"` // measured per cell and design
	WarmupNs    int64       `json:"warmup_ns"`
	SampleEvery int         `json:"sample_every"` // one call in this many is timed for the latencies
	Seed        uint64      `json:"seed"`
	Results     []result    `json:"results"`
	Ratios      []jsonRatio `json:"ratios"`
}

// jsonRatio is actor ops/s ÷ mutex ops/s in one cell: below 1 the actor
// design is slower.
type jsonRatio struct {
	Workload       string  `json:"workload"`
	Dist           string  `json:"dist"`
	Keys           int     `json:"keys"`
	Goroutines     int     `json:"goroutines"`
	ActorOverMutex float64 `json:"actor_over_mutex_ops_per_sec"`
}

func writeJSON(w io.Writer, rep report) error {
	out := jsonReport{
		Machine:     rep.machine,
		DurationNs:  rep.duration.Nanoseconds(),
		WarmupNs:    warmup(rep.duration).Nanoseconds(),
		SampleEvery: sampleEvery,
		Seed:        rep.seed,
		Results:     rep.results,
		Ratios:      []jsonRatio{},
	}
	ratios := rep.ratios()
	for _, r := range rep.results {
		if ratio, ok := ratios[keyOf(r)]; ok && r.Design == "actor" {
			out.Ratios = append(out.Ratios, jsonRatio{r.Workload, r.Dist, r.Keys, r.Goroutines, ratio})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
