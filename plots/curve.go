package plots

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"

	"github.com/pit-lab/pit/core/stats"
)

// maxCurvePoints bounds the steps drawn per curve; longer runs are thinned
// evenly (after smoothing), which a figure cannot show anyway.
const maxCurvePoints = 400

func drawCurve(ctx context.Context, res *Results, spec *Spec, nt *notes) (*figure, error) {
	runs, err := selectRuns(res, spec, nt)
	if err != nil {
		return nil, err
	}
	groups, err := groupRuns(runs, spec.GroupBy, "", res.Factors())
	if err != nil {
		return nil, err
	}
	stat, err := stats.ByName(spec.Stat)
	if err != nil {
		return nil, err
	}
	f := &figure{title: spec.Title, shareX: true}
	if spec.Smoothing > 0 {
		f.how(fmt.Sprintf("each seed smoothed by an exponential moving average (weight %g) before the %s", spec.Smoothing, spec.Stat))
	}
	for _, metric := range spec.metrics() {
		stage, err := metricStage(runs, metric, spec.Stage)
		if err != nil {
			return nil, err
		}
		title := stage + " · " + metric
		if spec.Stage != "" {
			title = metric // the figure title names the stage
		}
		if len(spec.metrics()) == 1 && f.title == "" {
			title = ""
			f.title = stage + " · " + metric
		} else if f.title == "" && spec.Stage != "" {
			f.title = "stage " + spec.Stage
		}
		p := newPanel(title, "step", metric)
		for gi, g := range groups {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			// Values per step over the group's runs.
			bystep := map[int][]float64{}
			for _, r := range g.runs {
				steps, vals := series(r, stage, metric)
				if len(vals) == 0 {
					nt.add("run %s: no %s/%s; left out", r.Dir, stage, metric)
					continue
				}
				if i := slices.IndexFunc(vals, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }); i >= 0 {
					nt.add("run %s: %s/%s is %v at step %d (diverged); left out", r.Dir, stage, metric, vals[i], steps[i])
					continue
				}
				if spec.Smoothing > 0 {
					vals = stats.EMA(vals, spec.Smoothing)
				}
				for i, s := range steps {
					bystep[s] = append(bystep[s], vals[i])
				}
			}
			if len(bystep) == 0 {
				continue
			}
			steps := thin(slices.Sorted(maps.Keys(bystep)), maxCurvePoints)
			xs := make([]float64, len(steps))
			mid := make(plotter.XYs, len(steps))
			lo, hi := make([]float64, len(steps)), make([]float64, len(steps))
			band := false
			for i, s := range steps {
				vals := bystep[s]
				xs[i] = float64(s)
				c := cell{Interval: stats.Interval{Point: stat(slices.Clone(vals))}}
				c.Lo, c.Hi = c.Point, c.Point
				if len(vals) > 1 && spec.CI != "none" {
					if c.Interval, err = spec.bootstrap().CI(vals, stat); err != nil {
						return nil, fmt.Errorf("%s step %d: %w", g.label, s, err)
					}
					band = true
				}
				switch {
				case band:
					f.how(fmt.Sprintf("line: %s over seeds; band: %g%% bootstrap CI over seeds", spec.Stat, 100*spec.Level))
				case len(vals) < 2 && spec.CI != "none":
					f.how(fmt.Sprintf("line: %s over seeds; no band where one seed", spec.Stat))
				}
				mid[i] = plotter.XY{X: xs[i], Y: c.Point}
				lo[i], hi[i] = c.Lo, c.Hi
			}
			ys := make([]float64, len(mid))
			for i := range mid {
				ys[i] = mid[i].Y
			}
			f.record(g.label, xs, ys, lo, hi)
			line, err := plotter.NewLine(mid)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", g.label, err)
			}
			line.LineStyle = lineStyle(look{gi, gi})
			var b *Band
			if band {
				b = NewBand(xs, lo, hi, translucent(seriesColor(gi), 0.22))
				p.Add(b)
			}
			p.Add(line)
			if metric == spec.metrics()[0] {
				if b != nil {
					f.addLegend(legendLabel(g), b, line)
				} else {
					f.addLegend(legendLabel(g), line)
				}
			}
		}
		f.panels = append(f.panels, p)
	}
	return f, nil
}

// legendLabel names a group in legends and panel titles, marking the
// baseline arm, except when its label already says it (an experiment
// without a grid has one arm, "baseline") or it is the only group ("all").
func legendLabel(g *group) string {
	if g.baseline && g.label != "baseline" && g.label != "all" {
		return g.label + " (baseline)"
	}
	return g.label
}

// thin keeps at most n evenly spaced elements of xs, always the last.
func thin(xs []int, n int) []int {
	if len(xs) <= n {
		return xs
	}
	out := make([]int, 0, n)
	for i := range n {
		out = append(out, xs[i*(len(xs)-1)/(n-1)])
	}
	return out
}
