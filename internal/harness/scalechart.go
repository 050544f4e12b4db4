package harness

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// The scale chart's geometry, in pixels, beside the throughput chart's.
const (
	scalePanelW = 230
	scaleAxisH  = 30 // the items' labels, under a plot
	pointR      = 3.5
)

// scaleRow is a row of the scale chart: the worst latency of one loop.
type scaleRow struct {
	title string
	worst func(scaleOp) (float64, bool)
}

var scaleRows = []scaleRow{
	{"worst Get", func(o scaleOp) (float64, bool) { return o.Get.WorstNs, o.Get.Calls > 0 }},
	{"worst Set", func(o scaleOp) (float64, bool) { return o.Set.WorstNs, o.Set.Calls > 0 }},
}

// writeScaleSVG draws the scale section: per operation, the worst latency
// of the Get loop (top row) and of the Set loop (bottom row) against the
// items in the store, both axes logarithmic, a line per design.
func writeScaleSVG(w io.Writer, rep report) error {
	designs := walkersOf(rep)
	lo, hi := math.Inf(1), math.Inf(-1)
	minItems, maxItems := math.Inf(1), math.Inf(-1)
	for _, r := range rep.scale {
		minItems, maxItems = min(minItems, float64(r.Items)), max(maxItems, float64(r.Items))
		for _, o := range r.Ops {
			for _, row := range scaleRows {
				if v, ok := row.worst(o); ok && v > 0 {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
	}
	if math.IsInf(lo, 1) { // no call was timed anywhere
		lo, hi = 1e3, 1e3
	}
	ys := logScaleOf(lo, hi)
	// Half a decade either side, so that no point sits on a plot's edge.
	xs := logScale{lo: math.Log10(minItems) - 0.5, hi: math.Log10(maxItems) + 0.5}

	cols := len(scaleOps)
	width := max(minWidth, 2*margin+cols*scalePanelW+(cols-1)*gap)
	var legend []series
	for _, d := range designs {
		legend = append(legend, series{d.Name + ": " + d.About, d.Colour})
	}
	var head strings.Builder
	y := drawLegend(&head, legend, width, legendTop)
	text(&head, margin, y, `font-size="12" fill="#333"`, fmt.Sprintf(
		"Each point: the slowest call, of a loop of Gets (top) or Sets (bottom) over %d keys on its own goroutine, that began while the operation ran.", probeKeys))
	headH := int(y) + 25
	panelH := titleH + plotH + scaleAxisH
	height := headH + len(scaleRows)*(panelH+gap) + margin - gap

	var b strings.Builder
	openSVG(&b, width, height, rep.title+", stalls against the store's size", fmt.Sprintf(
		"%s · items in the store against the worst latency of a call beside an operation, both log scale", rep.machine))
	b.WriteString(head.String())
	for ri, row := range scaleRows {
		for oi, op := range scaleOps {
			px := float64(margin + oi*(scalePanelW+gap))
			py := float64(headH + ri*(panelH+gap))
			drawScalePanel(&b, rep, designs, row, op.name, xs, ys, px, py)
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// walkersOf returns the designs of rep that the scale section measured.
func walkersOf(rep report) []Design {
	var out []Design
	for _, d := range rep.designs {
		for _, r := range rep.scale {
			if r.Design == d.Name {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// drawScalePanel draws one operation's row with its top left corner at
// (px, py).
func drawScalePanel(b *strings.Builder, rep report, designs []Design, row scaleRow, opName string, xs, ys logScale, px, py float64) {
	text(b, px, py+16, `font-size="14" font-weight="600" fill="#222"`, row.title+" · "+opName)
	x0, base := px+axisW, py+titleH+plotH
	plotW := float64(scalePanelW - axisW - 8)
	for e := ys.lo; e <= ys.hi; e++ {
		y := base - ys.at(math.Pow(10, e), plotH)
		stroke := "#e6e6e6"
		if e == ys.lo {
			stroke = "#b0b0b0"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x0, y, x0+plotW, y, stroke)
		text(b, x0-6, y+3.5, `font-size="10" fill="#777" text-anchor="end"`, decadeLabel(e))
	}
	for e := math.Ceil(xs.lo); e <= xs.hi; e++ {
		x := x0 + xs.at(math.Pow(10, e), plotW)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e6e6e6"/>`+"\n", x, base-plotH, x, base)
		text(b, x, base+14, `font-size="10" fill="#555" text-anchor="middle"`, keysLabel(int(math.Pow(10, e))))
	}
	text(b, x0+plotW/2, base+27, `font-size="10" fill="#777" text-anchor="middle"`, "items")
	for _, d := range designs {
		var pts []string
		var dots strings.Builder
		for _, r := range rep.scale {
			if r.Design != d.Name {
				continue
			}
			for _, o := range r.Ops {
				v, ok := row.worst(o)
				if o.Operation != opName || !ok {
					continue
				}
				x, y := x0+xs.at(float64(r.Items), plotW), base-ys.at(v, plotH)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
				fmt.Fprintf(&dots, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"><title>%s</title></circle>`+"\n", x, y, pointR, d.Colour,
					esc(fmt.Sprintf("%s · %s items · %s took %s · %s %s", d.Name, keysLabel(r.Items), opName, fmtNs(o.Ns), row.title, fmtNs(v))))
			}
		}
		if len(pts) > 1 {
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), d.Colour)
		}
		b.WriteString(dots.String())
	}
}

// decadeLabel names the duration 10^e ns: 1µs, 10µs, 100µs, 1ms, …
func decadeLabel(e float64) string {
	units := []string{"ns", "µs", "ms", "s"}
	i := min(max(int(e)/3, 0), len(units)-1)
	return fmt.Sprintf("%.0f%s", math.Pow(10, e-float64(3*i)), units[i])
}
