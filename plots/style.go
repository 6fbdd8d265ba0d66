package plots

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Palette is the colour-blind-safe palette of Okabe and Ito (2008), in the
// order series use it; yellow, weak on white, comes last.
var Palette = []color.Color{
	rgb(0x00, 0x72, 0xB2), // blue
	rgb(0xD5, 0x5E, 0x00), // vermillion
	rgb(0x00, 0x9E, 0x73), // bluish green
	rgb(0xCC, 0x79, 0xA7), // reddish purple
	rgb(0xE6, 0x9F, 0x00), // orange
	rgb(0x56, 0xB4, 0xE9), // sky blue
	rgb(0x00, 0x00, 0x00), // black
	rgb(0xF0, 0xE4, 0x42), // yellow
}

// Colours of the outcomes of a judgement and of the baseline.
var (
	winColor      = rgb(0x00, 0x9E, 0x73)
	tieColor      = rgb(0xBB, 0xBB, 0xBB)
	loseColor     = rgb(0xD5, 0x5E, 0x00)
	baselineColor = rgb(0x99, 0x99, 0x99)
	refLineColor  = rgb(0x66, 0x66, 0x66)
)

// Font sizes for a two-column paper, where a panel is about one column
// (3.3 in) wide and the text around it is set at 9–10 pt.
const (
	titleSize  = 9
	labelSize  = 8
	tickSize   = 7
	legendSize = 7
)

var (
	textFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	lineW    = vg.Points(1.2)
)

// dashes are paired with colours so series stay apart in greyscale print.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(4), vg.Points(2)},
	{vg.Points(1), vg.Points(1.5)},
	{vg.Points(5), vg.Points(1.5), vg.Points(1), vg.Points(1.5)},
}

func rgb(r, g, b uint8) color.Color { return color.NRGBA{R: r, G: g, B: b, A: 0xFF} }

// seriesColor gives the i-th series its colour.
func seriesColor(i int) color.Color { return Palette[i%len(Palette)] }

// translucent returns c with the given opacity.
func translucent(c color.Color, alpha float64) color.Color {
	r, g, b, _ := c.RGBA()
	a := uint8(math.Round(alpha * 255))
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

// look is a series' colour and its dash and marker, by index.
type look struct{ color, dash int }

// lookOf styles the i-th group: its own colour and dash, except that the
// groups of one arm split by eval method share the arm's colour and differ
// in dash and marker.
func lookOf(g *group, i int) look {
	if g.method != "" {
		return look{g.armIndex, g.methodIndex}
	}
	return look{i, i}
}

func lineStyle(l look) draw.LineStyle {
	return draw.LineStyle{Color: seriesColor(l.color), Width: lineW, Dashes: dashes[l.dash%len(dashes)]}
}

// newPanel returns a plot in the house style.
func newPanel(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(textFont, labelSize)
	p.Title.Padding = vg.Points(3)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Marker = plot.TickerFunc(cleanTicks)
		a.Label.TextStyle.Font = font.From(textFont, labelSize)
		a.Label.Padding = vg.Points(2)
		a.Tick.Label.Font = font.From(textFont, tickSize)
		a.Tick.Length = vg.Points(3)
		a.Padding = vg.Points(2)
	}
	p.Legend.TextStyle.Font = font.From(textFont, legendSize)
	p.Add(gridLines())
	return p
}

func gridLines() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xE6}
	g.Horizontal.Color = color.Gray{Y: 0xE6}
	g.Vertical.Width = vg.Points(0.4)
	g.Horizontal.Width = vg.Points(0.4)
	return g
}

// cleanTicks are evenly spaced ticks at the multiples of a round step (1, 2
// or 5 × 10^k, three to six of them labelled) with an unlabelled tick
// between labels, so 0 is always a labelled tick when the axis spans it (a
// Δ of 0 is the reference) and the labels are evenly spaced. (gonum's
// default ticks label every other tick counted from the axis minimum, so 0
// could fall between labels.) Labels are in shortest form with a true minus
// sign, as the axis labels use.
func cleanTicks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		ts := plot.DefaultTicks{}.Ticks(min, max)
		for i := range ts {
			if ts[i].Label != "" {
				ts[i].Label = tickLabel(ts[i].Value)
			}
		}
		return ts
	}
	step := niceStep((max - min) / 6)
	var ts []plot.Tick
	for k := math.Ceil(min/step*2 - 1e-9); k/2*step <= max+1e-9*step; k++ {
		v := k / 2 * step
		if k == 0 {
			v = 0 // not −0
		}
		t := plot.Tick{Value: v}
		if math.Mod(k, 2) == 0 {
			t.Label = tickLabel(roundTo(v, step))
		}
		ts = append(ts, t)
	}
	return ts
}

// niceStep is the smallest 1, 2 or 5 × 10^k that is at least x.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// roundTo removes the floating-point noise of k·step
// (0.30000000000000004 → 0.3).
func roundTo(v, step float64) float64 {
	digits := max(0, 1-int(math.Floor(math.Log10(step))))
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', digits, 64), 64)
	return r
}

// tickLabel formats a tick value: shortest form, no "-0", and U+2212 for
// the minus sign.
func tickLabel(v float64) string {
	if r := math.Round(v); math.Abs(v-r) < 1e-9*math.Max(1, math.Abs(v)) {
		v = r
	}
	if v == 0 {
		return "0"
	}
	return strings.ReplaceAll(strconv.FormatFloat(v, 'g', 10, 64), "-", "−") // also an exponent's
}

// integerTicks labels only whole numbers (improvement iterations).
func integerTicks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	step := math.Max(1, math.Ceil((max-min)/8))
	for v := math.Ceil(min); v <= max; v += step {
		ts = append(ts, plot.Tick{Value: v + 0, Label: tickLabel(v)}) // v + 0: no −0
	}
	return ts
}
