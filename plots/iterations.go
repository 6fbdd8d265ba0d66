package plots

import (
	"context"
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// iterationsOf lists the improvement iterations of an eval selection.
func iterationsOf(runs []*Run, method, judge string, temp float64) []int {
	its := map[int]bool{}
	for _, r := range runs {
		t := evalSel{method: method, temp: temp}.tempFor(r)
		for _, e := range r.Eval {
			if e.Method == method && e.Judge == judge && e.Temperature == t {
				its[e.Iteration] = true
			}
		}
		for _, o := range r.Outcomes {
			if o.Method == method && o.Judge == judge && o.Temperature == t {
				its[o.Iteration] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(its))
}

func panelTitle(judge string, temp float64) string {
	if math.IsNaN(temp) {
		return fmt.Sprintf("judge: %s, lowest T of each run", judge)
	}
	return fmt.Sprintf("judge: %s, T=%s", judge, formatValue(temp))
}

func drawIterations(ctx context.Context, res *Results, spec *Spec, nt *notes) (*figure, error) {
	runs, err := selectRuns(res, spec, nt)
	if err != nil {
		return nil, err
	}
	if !isEvalMeasure(spec.Metric, spec.Stage) {
		return nil, fmt.Errorf("metric: %q is not an eval measure (want one of delta, win, tie, lose, mean_oracle, copy_rate)", spec.Metric)
	}
	groups, err := groupRuns(runs, spec.GroupBy, "", res.Factors())
	if err != nil {
		return nil, err
	}
	groups = byMethod(groups, spec)
	judges, temp, err := evalPanels(runs, spec, nt)
	if err != nil {
		return nil, err
	}
	f := &figure{title: spec.Title, shareX: true, shareY: true}
	if f.title == "" {
		f.title = fmt.Sprintf("%s: y_i against y_0", spec.Method)
	}
	dodge := 0.08
	for _, judge := range judges {
		p := newPanel(panelTitle(judge, temp), "improvement iteration i", measureLabel(spec.Metric))
		p.X.Tick.Marker = plot.TickerFunc(integerTicks)
		if spec.Metric == "delta" {
			p.Add(newRefLine(0, false, refLineColor))
		}
		for gi, g := range groups {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var pts plotter.XYs
			var errs plotter.YErrors
			var cs []xyCell
			method := methodOf(g, spec)
			for _, it := range iterationsOf(g.runs, method, judge, temp) {
				c, err := evalCell(g, evalSel{method, judge, temp, it}, spec.Metric, spec, nt)
				if err == errNoData {
					continue
				}
				if err != nil {
					return nil, err
				}
				f.how(c.how)
				cs = append(cs, xyCell{float64(it), c})
				x := float64(it) + dodge*(float64(gi)-float64(len(groups)-1)/2)
				pts = append(pts, plotter.XY{X: x, Y: c.Point})
				errs = append(errs, struct{ Low, High float64 }{c.Point - c.Lo, c.Hi - c.Point})
			}
			if len(pts) == 0 {
				nt.add("%s: no %s results for judge %s; not drawn", g.label, method, judge)
				continue
			}
			f.recordCells(g.label, cs)
			line, sc, err := linePoints(pts, lookOf(g, gi))
			if err != nil {
				return nil, err
			}
			eb, err := errorBars(pts, errs, lookOf(g, gi))
			if err != nil {
				return nil, err
			}
			p.Add(eb, line, sc)
			if judge == judges[0] {
				f.addLegend(legendLabel(g), line, sc)
			}
		}
		f.panels = append(f.panels, p)
	}
	return f, nil
}

func linePoints(pts plotter.XYs, l look) (*plotter.Line, *plotter.Scatter, error) {
	line, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, nil, err
	}
	line.LineStyle = lineStyle(l)
	sc.GlyphStyle = draw.GlyphStyle{Color: seriesColor(l.color), Radius: vg.Points(2), Shape: glyphs[l.dash%len(glyphs)]}
	return line, sc, nil
}

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.CrossGlyph{}}

type xyErrs struct {
	plotter.XYs
	plotter.YErrors
}

func errorBars(pts plotter.XYs, errs plotter.YErrors, l look) (*plotter.YErrorBars, error) {
	eb, err := plotter.NewYErrorBars(xyErrs{pts, errs})
	if err != nil {
		return nil, err
	}
	eb.LineStyle = draw.LineStyle{Color: seriesColor(l.color), Width: vg.Points(0.9)}
	eb.CapWidth = vg.Points(4)
	return eb, nil
}

// hline is a reference line at y (or x, when vertical) in colour c.
type refLine struct {
	v        float64
	vertical bool
	style    draw.LineStyle
}

func newRefLine(v float64, vertical bool, c color.Color) *refLine {
	return &refLine{v: v, vertical: vertical, style: draw.LineStyle{Color: c, Width: vg.Points(0.9), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}}
}

// Plot implements plot.Plotter.
func (l *refLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	if l.vertical {
		x := trX(l.v)
		c.StrokeLine2(l.style, x, c.Min.Y, x, c.Max.Y)
		return
	}
	y := trY(l.v)
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
}

// DataRange implements plot.DataRanger: the line's value must be in view.
func (l *refLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	if l.vertical {
		return l.v, l.v, ymin, ymax
	}
	return xmin, xmax, l.v, l.v
}

// Thumbnail implements plot.Thumbnailer.
func (l *refLine) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
}

func (f *figure) recordCells(label string, cs []xyCell) {
	var x, y, lo, hi []float64
	for _, c := range cs {
		x, y, lo, hi = append(x, c.x), append(y, c.c.Point), append(lo, c.c.Lo), append(hi, c.c.Hi)
	}
	f.record(label, x, y, lo, hi)
}

func cellsToXY(cs []xyCell) (plotter.XYs, plotter.YErrors) {
	xy := make(plotter.XYs, len(cs))
	errs := make(plotter.YErrors, len(cs))
	for i, c := range cs {
		xy[i] = plotter.XY{X: c.x, Y: c.c.Point}
		errs[i].Low, errs[i].High = c.c.Point-c.c.Lo, c.c.Hi-c.c.Point
	}
	return xy, errs
}
