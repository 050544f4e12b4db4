// Package harness measures key-value designs side by side on the same
// workloads, through the same measuring loop, and reports them as tables,
// JSON and an SVG chart: the engine that cmd/compare and the peers program
// share, so that their numbers mean the same thing.
//
// A program is a [Program]: a registry of named [Design]s, the one every
// other design's throughput is divided by, and its defaults. [Run] parses
// the command line, measures the matrix it selects and writes the report.
package harness
