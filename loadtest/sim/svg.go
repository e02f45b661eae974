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

// SVG draws two panels over the simulated day: each policy's cumulative
// true cost, and its p95 unary latency per simulated hour, with the
// script's marked events as vertical lines.
func (r *Report) SVG() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgW, svgH)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">Simulated day: %d requests per policy, %v per day</text>`+"\n", marginL, firstRequests(r), r.DayLength)

	cum := make([][]float64, len(r.Summaries))
	lat := make([][]float64, len(r.Summaries))
	for i, s := range r.Summaries {
		c := make([]float64, hoursInDay+1)
		for h := 0; h < hoursInDay; h++ {
			c[h+1] = c[h] + s.HourlyCost[h]
		}
		cum[i] = c
		lat[i] = append([]float64(nil), s.HourlyP95ms[:]...)
	}
	r.panel(&b, marginTop, "cumulative cost, USD (true prices)", cum, true)
	r.panel(&b, marginTop+panelH+panelGap, "p95 latency of unary answers per simulated hour, ms", lat, false)

	// Legend.
	for i, s := range r.Summaries {
		y := marginTop + 20 + i*20
		x := svgW - marginR + 20
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", x, y, x+24, y, palette[i%len(palette)])
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", x+30, y+4, html.EscapeString(s.Policy))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// panel draws one chart at top. Cumulative series have 25 points (the
// start of each hour and the end of the day); hourly ones 24, drawn at the
// middle of each hour.
func (r *Report) panel(b *strings.Builder, top int, title string, series [][]float64, cumulative bool) {
	maxV := 0.0
	for _, s := range series {
		for _, v := range s {
			maxV = math.Max(maxV, v)
		}
	}
	step, ticks := niceTicks(maxV)
	yMax := step * float64(ticks)
	x := func(h float64) float64 { return marginL + h/hoursInDay*plotW }
	y := func(v float64) float64 { return float64(top+panelH) - v/yMax*panelH }

	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", marginL, top-8, html.EscapeString(title))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", marginL, top, plotW, panelH)
	for i := 0; i <= ticks; i++ {
		v := step * float64(i)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", marginL, y(v), marginL+plotW, y(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginL-6, y(v)+4, tickLabel(v, step))
	}
	for h := 0; h <= hoursInDay; h += 2 {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%02d:00</text>`+"\n", x(float64(h)), top+panelH+16, h)
	}
	for _, e := range r.Scenario.Events {
		if !e.Marker {
			continue
		}
		ex := x(e.At.Hours())
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555" stroke-dasharray="4 3"/>`+"\n", ex, top, ex, top+panelH)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="10" fill="#333">%s</text>`+"\n", ex+3, top+12, html.EscapeString(e.Label))
	}
	for i, s := range series {
		pts := make([]string, 0, len(s))
		for h, v := range s {
			hx := float64(h)
			if !cumulative {
				hx += 0.5
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(hx), y(v)))
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
