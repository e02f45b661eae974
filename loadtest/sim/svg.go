package sim

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// palette has one colour per policy, in order (colour-blind-safe Okabe–Ito).
var palette = []string{"#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"}

const (
	svgW       = 920
	panelH     = 260
	marginL    = 70
	marginR    = 190
	marginTop  = 40
	panelGap   = 70
	plotW      = svgW - marginL - marginR
	svgH       = marginTop + 2*panelH + panelGap + 50
	hoursInDay = 24
)

// SVG draws two panels over the simulated day: each policy's true cost per
// simulated hour (a log scale: the single-provider baseline spends ten
// times what the others do, which a linear axis would flatten to a line
// on the floor), and its p95 unary latency per hour, with the script's
// marked events as vertical lines. The legend gives each day's total.
func (r *Report) SVG() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgW, svgH)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">Simulated day: %d requests per policy, %v per day</text>`+"\n", marginL, firstRequests(r), r.DayLength)

	cost := make([][]float64, len(r.Summaries))
	lat := make([][]float64, len(r.Summaries))
	for i, s := range r.Summaries {
		cost[i] = append([]float64(nil), s.HourlyCost[:]...)
		lat[i] = append([]float64(nil), s.HourlyP95ms[:]...)
	}
	r.panel(&b, marginTop, "true cost per simulated hour, USD (log scale)", cost, logAxis(cost))
	r.panel(&b, marginTop+panelH+panelGap, "p95 latency of unary answers per simulated hour, ms", lat, linearAxis(lat))

	for i, s := range r.Summaries {
		y := marginTop + 20 + i*36
		x := svgW - marginR + 20
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", x, y, x+24, y, palette[i%len(palette)])
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", x+30, y+4, html.EscapeString(s.Policy))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="#333">%.4f USD, p95 %.0f ms</text>`+"\n", x+30, y+18, s.CostUSD, s.P95ms)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// axis maps values to [0,1] of a panel's height, with its grid lines.
type axis struct {
	frac  func(v float64) float64
	ticks []float64
	label func(v float64) string
}

func linearAxis(series [][]float64) axis {
	maxV := 0.0
	for _, s := range series {
		for _, v := range s {
			maxV = math.Max(maxV, v)
		}
	}
	step, n := niceTicks(maxV)
	top := step * float64(n)
	a := axis{frac: func(v float64) float64 { return v / top }, label: func(v float64) string { return tickLabel(v, step) }}
	for i := 0; i <= n; i++ {
		a.ticks = append(a.ticks, step*float64(i))
	}
	return a
}

// logAxis spans whole decades from the smallest positive value to the
// largest; zeros sit on the floor.
func logAxis(series [][]float64) axis {
	lo, hi := math.Inf(1), 0.0
	for _, s := range series {
		for _, v := range s {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi == 0 {
		lo, hi = 1, 10
	}
	d0, d1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if d1 == d0 {
		d1++
	}
	a := axis{
		frac: func(v float64) float64 {
			if v <= 0 {
				return 0
			}
			return (math.Log10(v) - d0) / (d1 - d0)
		},
		label: func(v float64) string {
			dec := max(0, int(-math.Floor(math.Log10(v)+1e-9)))
			return fmt.Sprintf("%.*f", dec, v)
		},
	}
	for d := d0; d <= d1; d++ {
		a.ticks = append(a.ticks, math.Pow(10, d))
	}
	return a
}

// panel draws one chart of hourly series (24 points, at the middle of
// each hour) at top.
func (r *Report) panel(b *strings.Builder, top int, title string, series [][]float64, ax axis) {
	x := func(h float64) float64 { return marginL + h/hoursInDay*plotW }
	y := func(v float64) float64 { return float64(top+panelH) - ax.frac(v)*panelH }

	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", marginL, top-8, html.EscapeString(title))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", marginL, top, plotW, panelH)
	for _, v := range ax.ticks {
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", marginL, y(v), marginL+plotW, y(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginL-6, y(v)+4, ax.label(v))
	}
	for h := 0; h <= hoursInDay; h += 2 {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%02d:00</text>`+"\n", x(float64(h)), top+panelH+16, h)
	}
	marked := 0
	for _, e := range r.Scenario.Events {
		if !e.Marker {
			continue
		}
		ex := x(e.At.Hours())
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555" stroke-dasharray="4 3"/>`+"\n", ex, top, ex, top+panelH)
		// Labels step down a line each, so neighbours four hours apart
		// do not overlap.
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="10" fill="#333">%s</text>`+"\n", ex+3, top+12+12*(marked%3), html.EscapeString(e.Label))
		marked++
	}
	for i, s := range series {
		pts := make([]string, 0, len(s))
		for h, v := range s {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(h)+0.5), y(v)))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", palette[i%len(palette)], strings.Join(pts, " "))
	}
}

// niceTicks picks a step of 1, 2 or 5 × 10^k giving at most 6 ticks above
// zero that cover maxV.
func niceTicks(maxV float64) (step float64, n int) {
	if !(maxV > 0) {
		return 1, 1
	}
	raw := maxV / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * mag
		if maxV/step <= 6 {
			break
		}
	}
	n = int(math.Ceil(maxV/step - 1e-9))
	return step, max(n, 1)
}

func tickLabel(v, step float64) string {
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step)))
	}
	return fmt.Sprintf("%.*f", dec, v)
}
