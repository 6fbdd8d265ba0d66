package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Band is a plotter that shades the region between two curves Lo(x) and
// Hi(x), such as a confidence band around a mean. gonum/plot has none; Band
// draws each run of finite points as one filled polygon (Hi left to right,
// then Lo right to left), so a gap in the data leaves a gap in the band.
type Band struct {
	X, Lo, Hi []float64 // equal lengths, X ascending
	Color     color.Color
}

// NewBand returns a band of the given colour. It panics if the slices
// differ in length (a programming error).
func NewBand(x, lo, hi []float64, c color.Color) *Band {
	if len(x) != len(lo) || len(x) != len(hi) {
		panic("plots: band slices of different lengths")
	}
	return &Band{X: x, Lo: lo, Hi: hi, Color: c}
}

func (b *Band) finite(i int) bool {
	for _, v := range []float64{b.X[i], b.Lo[i], b.Hi[i]} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// Plot implements plot.Plotter.
func (b *Band) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	start := -1
	flush := func(end int) {
		if start < 0 || end-start < 2 {
			start = -1
			return
		}
		pts := make([]vg.Point, 0, 2*(end-start))
		for i := start; i < end; i++ {
			pts = append(pts, vg.Point{X: trX(b.X[i]), Y: trY(b.Hi[i])})
		}
		for i := end - 1; i >= start; i-- {
			pts = append(pts, vg.Point{X: trX(b.X[i]), Y: trY(b.Lo[i])})
		}
		c.FillPolygon(b.Color, c.ClipPolygonXY(pts))
		start = -1
	}
	for i := range b.X {
		if b.finite(i) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(b.X))
}

// DataRange implements plot.DataRanger over the finite points.
func (b *Band) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for i := range b.X {
		if !b.finite(i) {
			continue
		}
		xmin, xmax = math.Min(xmin, b.X[i]), math.Max(xmax, b.X[i])
		ymin, ymax = math.Min(ymin, b.Lo[i]), math.Max(ymax, b.Hi[i])
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer: a shaded box behind the legend's
// line sample.
func (b *Band) Thumbnail(c *draw.Canvas) {
	h := (c.Max.Y - c.Min.Y) / 2
	mid := (c.Max.Y + c.Min.Y) / 2
	r := vg.Rectangle{Min: vg.Point{X: c.Min.X, Y: mid - h*0.8}, Max: vg.Point{X: c.Max.X, Y: mid + h*0.8}}
	c.FillPolygon(b.Color, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}
