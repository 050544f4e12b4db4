package harness

import (
	"encoding/json"
	"io"
)

// jsonReport is the JSON form of a report: the machine, the settings, the
// designs, every measurement, and every design's ratio to the baseline in
// every cell both ran.
type jsonReport struct {
	Machine     machine      `json:"machine"`
	DurationNs  int64        `json:"duration_ns"` // measured per cell and design
	WarmupNs    int64        `json:"warmup_ns"`
	SampleEvery int          `json:"sample_every"` // one call in this many is timed for the latencies
	Seed        uint64       `json:"seed"`
	Baseline    string       `json:"baseline"`
	Designs     []jsonDesign `json:"designs"`
	Results     []result     `json:"results"`
	Ratios      []jsonRatio  `json:"ratios"`
	// Scale is the scale section, by item count, then design.
	Scale []scaleResult `json:"scale"`
}

// jsonDesign is a measured design and the measured workloads it did not
// run, because it does not offer their operations.
type jsonDesign struct {
	Name        string   `json:"name"`
	About       string   `json:"about"`
	Unsupported []string `json:"unsupported_workloads"`
}

// jsonRatio is a design's ops/s ÷ the baseline's in one cell: below 1 the
// design is slower.
type jsonRatio struct {
	Workload   string  `json:"workload"`
	Dist       string  `json:"dist"`
	Keys       int     `json:"keys"`
	Goroutines int     `json:"goroutines"`
	Design     string  `json:"design"`
	Ratio      float64 `json:"ops_per_sec_over_baseline"`
}

func writeJSON(w io.Writer, rep report) error {
	out := jsonReport{
		Machine:     rep.machine,
		DurationNs:  rep.duration.Nanoseconds(),
		WarmupNs:    warmup(rep.duration).Nanoseconds(),
		SampleEvery: sampleEvery,
		Seed:        rep.seed,
		Baseline:    rep.baseline,
		Results:     rep.results,
		Ratios:      []jsonRatio{},
		Scale:       rep.scale,
	}
	if out.Scale == nil {
		out.Scale = []scaleResult{}
	}
	if out.Results == nil {
		out.Results = []result{}
	}
	for _, d := range rep.designs {
		jd := jsonDesign{Name: d.Name, About: d.About, Unsupported: []string{}}
		for _, wl := range rep.workloads {
			if !d.supports(wl) {
				jd.Unsupported = append(jd.Unsupported, wl.name)
			}
		}
		out.Designs = append(out.Designs, jd)
	}
	ratios := rep.ratios()
	for _, r := range rep.results {
		if ratio, ok := ratios[keyOf(r)][r.Design]; ok {
			out.Ratios = append(out.Ratios, jsonRatio{r.Workload, r.Dist, r.Keys, r.Goroutines, r.Design, ratio})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
