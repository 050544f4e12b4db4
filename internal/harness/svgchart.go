package harness

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// The chart's colours, beside the designs' own: the channel floor's, and
// two for the ratio's verdict.
const (
	floorColour  = "#9a9a9a"
	fasterColour = "#2e7d32"
	slowerColour = "#b3261e"
)

// The chart's geometry, in pixels. A set is the bars of the designs in one
// cell; a group is the sets of one goroutine count; a panel is a workload.
const (
	barW      = 13
	setPad    = 10 // between the sets of a group
	groupPad  = 12
	plotH     = 150
	axisW     = 48 // the decade labels, left of a plot
	titleH    = 30 // a panel's title, above its plot
	labelRoom = 26 // above a plot whose bars carry upright ratios
	legendH   = 20 // a line of the legend
	margin    = 24
	gap       = 20 // between panels
	minWidth  = 980
	maxWidth  = 1300
	charW     = 7 // the width of a character of 12px text, generously
)

// series is a design as the chart shows it.
type series struct{ name, colour string }

// panel is one small chart: a workload, or the channel floor.
type panel struct {
	workload string
	title    string
	variants []cellKey // key count and distribution of each set in a group
	gs       []int     // the goroutine count of each group
	bars     []series  // the bars of a set
}

// setW returns the width of a set of p's bars.
func (p panel) setW() int { return len(p.bars)*barW + setPad }

// chart is the whole picture: its panels, on one scale.
type chart struct {
	panels    []panel
	cells     map[cellKey]map[string]result // by cell, then design
	baseline  string
	scale     logScale
	multiKeys bool // more than one key count was measured: sets say which
	upright   bool // some set carries more than one ratio, each upright over its bar
	panelW    int
}

// writeSVG draws, per workload, the designs' throughput side by side: a
// group of bars per goroutine count, a set per key distribution, on one
// log scale for all panels, with each design's ratio to the baseline over
// its bar, or over the set when it is the only one.
func writeSVG(w io.Writer, rep report) error {
	c := newChart(rep)
	cols := max(1, min(len(c.panels), (maxWidth-2*margin+gap)/(c.panelW+gap)))
	rows := (len(c.panels) + cols - 1) / cols
	panelH := c.plotTop() + plotH + c.labelsH()
	width := max(minWidth, 2*margin+cols*c.panelW+(cols-1)*gap)

	legend := []series{}
	for _, d := range rep.designs {
		legend = append(legend, series{d.Name + ": " + d.About, d.Colour})
	}
	if len(rep.of(floorWorkload)) > 0 {
		legend = append(legend, series{"channel floor: an echo actor", floorColour})
	}
	var head strings.Builder
	y := drawLegend(&head, legend, width, legendTop)
	if len(rep.compared()) > 0 {
		fmt.Fprintf(&head, `<text x="%d" y="%.1f" font-size="12" fill="#333">The numbers are ops/s ÷ %s ops/s in the same cell: `+
			`<tspan fill="%s" font-weight="600">green</tspan>, faster than %[3]s; `+
			`<tspan fill="%[5]s" font-weight="600">red</tspan>, slower.</text>`+"\n", margin, y, esc(rep.baseline), fasterColour, slowerColour)
	}
	headH := int(y) + 25
	height := headH + rows*(panelH+gap) + margin - gap

	var b strings.Builder
	openSVG(&b, width, height, rep.title+", throughput per workload", fmt.Sprintf(
		"%s · %v per cell · ops/s of all goroutines together, log scale · g = goroutines", rep.machine, rep.duration))
	b.WriteString(head.String())
	for i, p := range c.panels {
		c.draw(&b, p, float64(margin+i%cols*(c.panelW+gap)), float64(headH+i/cols*(panelH+gap)))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// legendTop is the baseline of a chart's first line of legend, under its
// title and subtitle.
const legendTop = 81.5

// openSVG writes the svg element, width × height, its white ground, and
// the chart's title with the line under it.
func openSVG(b *strings.Builder, width, height int, title, subtitle string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" `+
		`font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">
<rect width="100%%" height="100%%" fill="#ffffff"/>
`, width, height, width, height)
	text(b, margin, 36, `font-size="20" font-weight="600" fill="#222"`, title)
	text(b, margin, 57, `font-size="12" fill="#555"`, subtitle)
}

// drawLegend writes a swatch and a name per series, in lines from the
// baseline y down, wrapped within width; it returns the baseline of the
// line after the last.
func drawLegend(b *strings.Builder, legend []series, width int, y float64) float64 {
	x := float64(margin)
	for _, s := range legend {
		w := 17 + float64(utf8.RuneCountInString(s.name))*charW
		if x > margin && x+w > float64(width-margin) {
			x, y = margin, y+legendH
		}
		fmt.Fprintf(b, `<rect x="%.0f" y="%.1f" width="12" height="12" rx="2" fill="%s"/>`+"\n", x, y-10.5, s.colour)
		text(b, x+17, y, `font-size="12" fill="#333"`, s.name)
		x += w + 22
	}
	return y + legendH
}

// newChart lays out the panels of rep.
func newChart(rep report) chart {
	c := chart{cells: rep.byCell(), baseline: rep.baseline}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rep.results {
		lo, hi = min(lo, r.OpsPerSec), max(hi, r.OpsPerSec)
		c.multiKeys = c.multiKeys || r.Keys != rep.results[0].Keys
	}
	c.scale = logScaleOf(lo, hi)
	for _, cell := range rep.ratios() {
		c.upright = c.upright || len(cell) > 1
	}
	floor := workload{name: floorWorkload}
	for _, wl := range append(slices.Clone(rep.workloads), floor) {
		p := panel{workload: wl.name, title: wl.name}
		if wl.name == floorWorkload {
			p.title, p.bars = "channel floor: a bare echo actor", []series{{floorDesign, floorColour}}
		} else {
			for _, d := range rep.offering(wl) {
				p.bars = append(p.bars, series{d.Name, d.Colour})
			}
		}
		for _, r := range rep.of(wl.name) {
			if v := (cellKey{dist: r.Dist, keys: r.Keys}); !slices.Contains(p.variants, v) {
				p.variants = append(p.variants, v)
			}
			if !slices.Contains(p.gs, r.Goroutines) {
				p.gs = append(p.gs, r.Goroutines)
			}
		}
		if len(p.gs) > 0 {
			c.panels = append(c.panels, p)
			// Every panel is as wide as the widest, so that bars line up.
			c.panelW = max(c.panelW, axisW+len(p.gs)*(len(p.variants)*p.setW()+2*groupPad))
		}
	}
	return c
}

// plotTop is the height above a plot: the panel's title, and room for
// upright ratios over the tallest bars.
func (c chart) plotTop() int {
	if c.upright {
		return titleH + labelRoom
	}
	return titleH
}

// labelsH is the height of the labels under a plot.
func (c chart) labelsH() int {
	if c.multiKeys {
		return 47
	}
	return 36
}

// draw draws p with its top left corner at (px, py).
func (c chart) draw(b *strings.Builder, p panel, px, py float64) {
	text(b, px, py+16, `font-size="14" font-weight="600" fill="#222"`, p.title)
	x0, base := px+axisW, py+float64(c.plotTop())+plotH
	plotW := float64(c.panelW - axisW)
	for e := c.scale.lo; e <= c.scale.hi; e++ {
		y := base - c.scale.height(math.Pow(10, e))
		stroke := "#e6e6e6"
		if e == c.scale.lo {
			stroke = "#b0b0b0" // the baseline
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x0, y, x0+plotW, y, stroke)
		v, suffix := siScale(math.Pow(10, e))
		text(b, x0-6, y+3.5, `font-size="10" fill="#777" text-anchor="end"`, fmt.Sprintf("%.0f%s", v, suffix))
	}
	groupW := plotW / float64(len(p.gs))
	setW := float64(p.setW())
	for gi, g := range p.gs {
		gx := x0 + float64(gi)*groupW
		left := gx + (groupW-float64(len(p.variants))*setW)/2
		for vi, v := range p.variants {
			cx := left + float64(vi)*setW + setW/2 // the set's centre
			cell := c.cells[cellKey{p.workload, v.dist, v.keys, g}]
			bx := cx - float64(len(p.bars)*barW)/2 // the left of the first bar
			for bi, s := range p.bars {
				if r, ok := cell[s.name]; ok {
					h := c.scale.height(r.OpsPerSec)
					fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
						bx+float64(bi*barW), base-h, barW-1, h, s.colour,
						esc(fmt.Sprintf("%s · %s · %s keys · g=%d · %s: %s ops/s, p50 %s, p99 %s", r.Workload, r.Dist,
							keysLabel(r.Keys), g, r.Design, si(r.OpsPerSec), fmtNs(r.P50Ns), fmtNs(r.P99Ns))))
				}
			}
			c.label(b, p, cell, cx, bx, base)
			text(b, cx, base+12, `font-size="10" fill="#555" text-anchor="middle"`, shortDist(v.dist))
			if c.multiKeys {
				text(b, cx, base+23, `font-size="10" fill="#555" text-anchor="middle"`, keysLabel(v.keys))
			}
		}
		text(b, gx+groupW/2, base+float64(c.labelsH())-8, `font-size="11" font-weight="600" fill="#333" text-anchor="middle"`,
			fmt.Sprintf("g=%d", g))
	}
}

// label writes the numbers over the bars of cell, a set centred on cx
// whose first bar starts at bx: the echo's ops/s for the channel floor;
// else each design's ratio to the baseline, over the set when there is one
// ratio, upright over each bar when there are more.
func (c chart) label(b *strings.Builder, p panel, cell map[string]result, cx, bx, base float64) {
	if e, ok := cell[floorDesign]; ok {
		text(b, cx, base-c.scale.height(e.OpsPerSec)-4, `font-size="9.5" fill="#555" text-anchor="middle"`, si(e.OpsPerSec))
		return
	}
	m, ok := cell[c.baseline]
	if !ok {
		return
	}
	var ratios []int // the bars that carry one
	for bi, s := range p.bars {
		if _, ok := cell[s.name]; ok && s.name != c.baseline {
			ratios = append(ratios, bi)
		}
	}
	verdict := func(r result) (string, string) {
		ratio, colour := r.OpsPerSec/m.OpsPerSec, fasterColour
		if ratio < 1 {
			colour = slowerColour
		}
		return fmtRatio(ratio), colour
	}
	if len(ratios) == 1 {
		r := cell[p.bars[ratios[0]].name]
		s, colour := verdict(r)
		top := base - max(c.scale.height(r.OpsPerSec), c.scale.height(m.OpsPerSec))
		text(b, cx, top-4, fmt.Sprintf(`font-size="9.5" font-weight="600" fill="%s" text-anchor="middle"`, colour), s)
		return
	}
	for _, bi := range ratios {
		r := cell[p.bars[bi].name]
		s, colour := verdict(r)
		x, y := bx+float64(bi*barW)+barW/2+3, base-c.scale.height(r.OpsPerSec)-3
		text(b, x, y, fmt.Sprintf(`font-size="9.5" font-weight="600" fill="%s" transform="rotate(-90 %.1f %.1f)"`, colour, x, y), s)
	}
}

// logScale maps ops/s to heights, between two powers of ten.
type logScale struct{ lo, hi float64 } // log10 of the bottom and the top

// height returns how high v reaches in a plot plotH high.
func (s logScale) height(v float64) float64 { return s.at(v, plotH) }

// at returns how far v lies along an axis length long: 0 at the bottom
// power of ten (and for v ≤ 0), length at the top.
func (s logScale) at(v, length float64) float64 {
	if v <= 0 {
		return 0
	}
	return max(0, (math.Log10(v)-s.lo)/(s.hi-s.lo)*length)
}

// logScaleOf returns the scale from the power of ten at or below lo to
// the one at or above hi, at least a decade.
func logScaleOf(lo, hi float64) logScale {
	s := logScale{lo: math.Floor(math.Log10(lo)), hi: math.Ceil(math.Log10(hi))}
	if s.hi <= s.lo { // one value, a power of ten
		s.hi = s.lo + 1
	}
	return s
}

// text writes s at (x, y) with attrs.
func text(b *strings.Builder, x, y float64, attrs, s string) {
	fmt.Fprintf(b, "<text x=\"%.1f\" y=\"%.1f\" %s>%s</text>\n", x, y, attrs, esc(s))
}

// esc escapes s for XML text.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// shortDist is a distribution's name where a set of bars is narrow.
func shortDist(dist string) string {
	if dist == "uniform" {
		return "unif"
	}
	return dist
}
