package plots

import (
	"context"
	"fmt"
	"image/color"
	"slices"
	"strconv"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/pit-lab/pit/core/stats"
)

// shares returns the win, tie and lose percentages of a group at one eval
// selection: pooled over the per-prompt outcomes when every run has them,
// else the mean of the runs' eval rows.
func shares(g *group, sel evalSel, nt *notes) (win, tie, lose float64, ok bool) {
	var all []int
	complete := true
	for _, r := range g.runs {
		o := sel.outcomes(r)
		if len(o) == 0 {
			complete = false
			break
		}
		all = append(all, o...)
	}
	if complete && len(all) > 0 {
		if t, err := stats.Count(all); err == nil {
			return t.WinPct(), t.TiePct(), t.LosePct(), true
		}
	}
	var n float64
	for _, r := range g.runs {
		e, found := sel.row(r)
		if !found {
			continue
		}
		if !stats.Finite([]float64{e.Win, e.Tie, e.Lose}) {
			nt.add("run %s: win/tie/lose of %s/%s iteration %d are not numbers; left out", r.Dir, sel.method, sel.judge, sel.iter)
			continue
		}
		win, tie, lose = win+100*e.Win, tie+100*e.Tie, lose+100*e.Lose
		n++
	}
	if n == 0 {
		return 0, 0, 0, false
	}
	return win / n, tie / n, lose / n, true
}

func drawOutcomes(ctx context.Context, res *Results, spec *Spec, nt *notes) (*figure, error) {
	runs, err := selectRuns(res, spec, nt)
	if err != nil {
		return nil, err
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
	judge := judges[0]
	if spec.Judge == "" && len(spec.Judges) == 0 && len(judges) > 1 {
		nt.add("outcomes: judges %v present; drawing %s (set judge to choose)", judges, judge)
	}
	f := &figure{title: spec.Title, shareY: true, cols: min(len(groups), 4)}
	// Bars fill 60% of their slot of a panel's width.
	w, _, err := f.size(&Spec{Width: spec.Width, Height: spec.Height})
	if err != nil {
		return nil, err
	}
	if f.title == "" {
		f.title = fmt.Sprintf("%s against y_0, %s", spec.Method, panelTitle(judge, temp))
	}
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		method := methodOf(g, spec)
		its := iterationsOf(g.runs, method, judge, temp)
		its = slices.DeleteFunc(its, func(i int) bool { return i == 0 }) // y_0 against itself
		var win, tie, lose plotter.Values
		var names []string
		for _, it := range its {
			w, t, l, ok := shares(g, evalSel{method, judge, temp, it}, nt)
			if !ok {
				continue
			}
			win, tie, lose = append(win, w), append(tie, t), append(lose, l)
			names = append(names, strconv.Itoa(it))
		}
		if len(names) == 0 {
			nt.add("%s: no %s results for judge %s; not drawn", g.label, method, judge)
			continue
		}
		xs := make([]float64, len(names))
		for i, n := range names {
			xs[i], _ = strconv.ParseFloat(n, 64)
		}
		f.record(g.label+"/win", xs, win, win, win)
		f.record(g.label+"/tie", xs, tie, tie, tie)
		f.record(g.label+"/lose", xs, lose, lose, lose)
		p := newPanel(legendLabel(g), "improvement iteration i", "share of prompts (%)")
		width := min(vg.Points(24), max(vg.Points(4), 0.6*(w/vg.Length(f.cols)-0.5*vg.Inch)/vg.Length(len(names))))
		var bars []*plotter.BarChart
		for k, part := range []struct {
			v plotter.Values
			c color.Color
		}{{win, winColor}, {tie, tieColor}, {lose, loseColor}} {
			b, err := plotter.NewBarChart(part.v, width)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", g.label, err)
			}
			b.Color = part.c
			b.LineStyle = draw.LineStyle{Color: b.Color, Width: vg.Points(0.3)}
			if k > 0 {
				b.StackOn(bars[k-1])
			}
			bars = append(bars, b)
			p.Add(b)
		}
		p.NominalX(names...)
		p.Y.Min, p.Y.Max = 0, 100
		if len(f.panels) == 0 {
			f.addLegend("win", bars[0])
			f.addLegend("tie", bars[1])
			f.addLegend("lose", bars[2])
		}
		f.panels = append(f.panels, p)
	}
	f.how("shares of all prompts of all seeds")
	if len(f.panels) == 0 {
		return nil, fmt.Errorf("no %s results for judge %s at T=%v", spec.Method, judge, temp)
	}
	return f, nil
}
