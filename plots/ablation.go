package plots

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// panelSel is one panel of a figure that plots one number per group: a
// metric, and for eval measures a judge.
type panelSel struct {
	metric, stage, judge string
	temp                 float64
	eval                 bool
}

func (ps panelSel) title(multiMetric bool) string {
	if ps.eval {
		t := panelTitle(ps.judge, ps.temp)
		if multiMetric {
			t = ps.metric + ", " + t
		}
		return t
	}
	return ps.stage + " · " + ps.metric
}

func (ps panelSel) axisLabel() string {
	if ps.eval {
		return measureLabel(ps.metric)
	}
	return ps.metric + " (final)"
}

// valuePanels settles the panels of an ablation or sweep figure: one per
// metric, and per judge for eval measures.
func valuePanels(runs []*Run, spec *Spec, nt *notes) ([]panelSel, error) {
	var out []panelSel
	for _, m := range spec.metrics() {
		if isEvalMeasure(m, spec.Stage) {
			judges, temp, err := evalPanels(runs, spec, nt)
			if err != nil {
				return nil, err
			}
			for _, j := range judges {
				out = append(out, panelSel{metric: m, judge: j, temp: temp, eval: true})
			}
			continue
		}
		stage, err := metricStage(runs, m, spec.Stage)
		if err != nil {
			return nil, err
		}
		out = append(out, panelSel{metric: m, stage: stage})
	}
	return out, nil
}

// groupValue aggregates one panel's number over a group's runs. For eval
// measures temp overrides the panel's temperature when not NaN.
func groupValue(g *group, ps panelSel, spec *Spec, temp float64, nt *notes) (cell, error) {
	if ps.eval {
		if math.IsNaN(temp) {
			temp = ps.temp
		}
		return evalCell(g, evalSel{methodOf(g, spec), ps.judge, temp, spec.Iteration}, ps.metric, spec, nt)
	}
	var vals []float64
	for _, r := range g.runs {
		if v, ok := finalValue(r, ps.stage, ps.metric, nt); ok {
			vals = append(vals, v)
		}
	}
	return summarize(vals, spec)
}

func drawAblation(ctx context.Context, res *Results, spec *Spec, nt *notes) (*figure, error) {
	runs, err := selectRuns(res, spec, nt)
	if err != nil {
		return nil, err
	}
	groups, err := groupRuns(runs, spec.GroupBy, "", res.Factors())
	if err != nil {
		return nil, err
	}
	groups = byMethod(groups, spec)
	panels, err := valuePanels(runs, spec, nt)
	if err != nil {
		return nil, err
	}
	f := &figure{title: spec.Title, shareX: len(spec.metrics()) == 1, cols: min(len(panels), 2)}
	if f.title == "" && panels[0].eval {
		f.title = fmt.Sprintf("%s, iteration %d", spec.Method, spec.Iteration)
	}
	// Bars fill 60% of their slot of the panel's height.
	rows := (len(panels) + f.cols - 1) / f.cols
	h := vg.Length(rows) * panelHeight
	if spec.Height != "" {
		if h, err = ParseLength(spec.Height); err != nil {
			return nil, err
		}
	}
	barWidth := max(vg.Points(4), 0.6*(h/vg.Length(rows)-0.7*vg.Inch)/vg.Length(len(groups)))
	// The baseline (sorted first) goes on top.
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[len(groups)-1-i] = legendLabel(g)
	}
	for _, ps := range panels {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := newPanel(ps.title(len(spec.metrics()) > 1), ps.axisLabel(), "")
		if ps.eval && ps.metric == "delta" {
			zero := newRefLine(0, true, refLineColor)
			zero.style.Dashes = nil
			zero.style.Width = vg.Points(0.6)
			p.Add(zero)
		}
		for gi, g := range groups {
			c, err := groupValue(g, ps, spec, math.NaN(), nt)
			if err == errNoData {
				nt.add("%s: no value of %s; bar left out", g.label, ps.metric)
				continue
			}
			if err != nil {
				return nil, err
			}
			f.how(c.how)
			f.recordCells(g.label, []xyCell{{0, c}})
			pos := float64(len(groups) - 1 - gi)
			bar, err := plotter.NewBarChart(plotter.Values{c.Point}, barWidth)
			if err != nil {
				return nil, err
			}
			bar.Horizontal = true
			bar.XMin = pos
			col := seriesColor(lookOf(g, gi).color)
			bar.Color = translucent(col, 0.85)
			bar.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(0.5)}
			if g.baseline {
				bar.Color = baselineColor
				bar.LineStyle.Color = rgb(0, 0, 0)
				if g.method == "" || g.method == spec.Methods[0] {
					p.Add(newRefLine(c.Point, true, rgb(0x33, 0x33, 0x33)))
				}
			}
			p.Add(bar)
			if c.hasCI {
				eb, err := plotter.NewXErrorBars(xErrs{
					plotter.XYs{{X: c.Point, Y: pos}},
					plotter.XErrors{{Low: c.Point - c.Lo, High: c.Hi - c.Point}},
				})
				if err != nil {
					return nil, err
				}
				eb.LineStyle = draw.LineStyle{Color: rgb(0, 0, 0), Width: vg.Points(0.9)}
				eb.CapWidth = vg.Points(4)
				p.Add(eb)
			}
		}
		p.NominalY(labels...)
		// Room for half a bar above the top bar and below the bottom one.
		p.Y.Min, p.Y.Max = -0.6, float64(len(groups)-1)+0.6
		p.Y.Tick.Label.Font.Size = vg.Points(tickSize)
		f.panels = append(f.panels, p)
	}
	for _, g := range groups {
		if g.baseline {
			f.how("grey bar and dashed line: the baseline")
			break
		}
	}
	return f, nil
}

type xErrs struct {
	plotter.XYs
	plotter.XErrors
}

var _ plot.Plotter = (*refLine)(nil)
