package plots

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
)

func drawSweep(ctx context.Context, res *Results, spec *Spec, nt *notes) (*figure, error) {
	runs, err := selectRuns(res, spec, nt)
	if err != nil {
		return nil, err
	}
	factors := res.Factors()
	overTemp := spec.X == "temperature" && !slices.Contains(factors, spec.X)
	if !overTemp && !slices.Contains(factors, spec.X) {
		return nil, fmt.Errorf("x: no factor named %q (factors: %s; or \"temperature\" for the eval temperature)", spec.X, listOrNone(factors))
	}
	if !overTemp {
		for _, r := range runs {
			if _, ok := numericValue(r.Manifest.Factors[spec.X]); !ok {
				return nil, fmt.Errorf("x: factor %q of run %s is %q, not a number", spec.X, r.Dir, formatValue(r.Manifest.Factors[spec.X]))
			}
		}
	}
	if spec.LogX {
		for _, r := range runs {
			if v, ok := numericValue(r.Manifest.Factors[spec.X]); !overTemp && ok && v <= 0 {
				return nil, fmt.Errorf("log_x: factor %q of run %s is %v; a log axis needs positive values", spec.X, r.Dir, v)
			}
		}
	}
	if spec.GroupBy == spec.X {
		return nil, fmt.Errorf("group_by: cannot group by the x factor %q", spec.X)
	}
	groups, err := groupRuns(runs, spec.GroupBy, spec.X, factors)
	if err != nil {
		return nil, err
	}
	groups = byMethod(groups, spec)
	panels, err := valuePanels(runs, spec, nt)
	if err != nil {
		return nil, err
	}
	if overTemp && slices.ContainsFunc(panels, func(ps panelSel) bool { return !ps.eval }) {
		return nil, fmt.Errorf("x: the eval temperature applies to eval measures only, not to metrics.jsonl metrics")
	}
	f := &figure{title: spec.Title, shareX: true, shareY: len(spec.metrics()) == 1}
	if f.title == "" && panels[0].eval {
		f.title = fmt.Sprintf("%s, iteration %d", spec.Method, spec.Iteration)
	}
	for _, ps := range panels {
		title := ps.title(len(spec.metrics()) > 1)
		if overTemp {
			title = "judge: " + ps.judge
		}
		p := newPanel(title, spec.X, ps.axisLabel())
		if spec.LogX {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		if ps.eval && ps.metric == "delta" {
			p.Add(newRefLine(0, false, refLineColor))
		}
		for gi, g := range groups {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var pts []xyCell
			if overTemp {
				_, temps := evalKeys(g.runs, methodOf(g, spec))
				for _, t := range temps {
					c, err := groupValue(g, ps, spec, t, nt)
					if err == errNoData {
						continue
					}
					if err != nil {
						return nil, err
					}
					f.how(c.how)
					pts = append(pts, xyCell{t, c})
				}
			} else {
				for _, sub := range splitBy(g, spec.X) {
					c, err := groupValue(sub.g, ps, spec, math.NaN(), nt)
					if err == errNoData {
						continue
					}
					if err != nil {
						return nil, err
					}
					f.how(c.how)
					pts = append(pts, xyCell{sub.x, c})
				}
			}
			if len(pts) == 0 {
				nt.add("%s: no values of %s; not drawn", g.label, ps.metric)
				continue
			}
			f.recordCells(g.label, pts)
			xy, errs := cellsToXY(pts)
			// Dodge the groups a little so their error bars stay apart.
			if n := len(groups); n > 1 && len(xy) > 1 {
				off := float64(gi) - float64(n-1)/2
				if spec.LogX {
					span := math.Log(xy[len(xy)-1].X / xy[0].X)
					for i := range xy {
						xy[i].X *= math.Exp(0.012 * span * off)
					}
				} else {
					span := xy[len(xy)-1].X - xy[0].X
					for i := range xy {
						xy[i].X += 0.012 * span * off
					}
				}
			}
			line, sc, err := linePoints(xy, lookOf(g, gi))
			if err != nil {
				return nil, err
			}
			eb, err := errorBars(xy, errs, lookOf(g, gi))
			if err != nil {
				return nil, err
			}
			p.Add(eb, line, sc)
			if ps == panels[0] {
				f.addLegend(legendLabel(g), line, sc)
			}
		}
		// A sweep has few x values: label exactly those.
		var xs []float64
		for _, d := range f.data {
			if d.panel == len(f.panels) {
				for _, x := range d.x {
					if !slices.Contains(xs, x) {
						xs = append(xs, x)
					}
				}
			}
		}
		if len(xs) <= 8 {
			slices.Sort(xs)
			ticks := make(plot.ConstantTicks, len(xs))
			for i, x := range xs {
				ticks[i] = plot.Tick{Value: x, Label: formatValue(x)}
			}
			p.X.Tick.Marker = ticks
		}
		f.panels = append(f.panels, p)
	}
	return f, nil
}

type xyCell struct {
	x float64
	c cell
}

type subgroup struct {
	x float64
	g *group
}

// splitBy splits a group's runs by their (numeric) value of factor x.
func splitBy(g *group, x string) []subgroup {
	var out []subgroup
	for _, r := range g.runs {
		v, _ := numericValue(r.Manifest.Factors[x])
		i := slices.IndexFunc(out, func(s subgroup) bool { return s.x == v })
		if i < 0 {
			out = append(out, subgroup{x: v, g: &group{label: g.label, baseline: g.baseline, method: g.method}})
			i = len(out) - 1
		}
		out[i].g.runs = append(out[i].g.runs, r)
	}
	slices.SortFunc(out, func(a, b subgroup) int { return cmp.Compare(a.x, b.x) })
	return out
}
