package plots

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/stats"
)

// gapSeries are the four scores of the PIT reward model, in the order they
// should rank: g_wl > g_ww ≈ g_ll > g_lw.
var gapSeries = []struct {
	name  string
	get   func(results.GapScore) float64
	color color.Color
	dash  []vg.Length
}{
	{"g_wl", func(g results.GapScore) float64 { return g.WL }, Palette[2], nil},
	{"g_ww", func(g results.GapScore) float64 { return g.WW }, Palette[0], []vg.Length{vg.Points(4), vg.Points(2)}},
	{"g_ll", func(g results.GapScore) float64 { return g.LL }, Palette[4], []vg.Length{vg.Points(1), vg.Points(1.5)}},
	{"g_lw", func(g results.GapScore) float64 { return g.LW }, Palette[1], nil},
}

func finiteGap(g results.GapScore) bool {
	return stats.Finite([]float64{g.WL, g.WW, g.LL, g.LW})
}

func drawGaps(ctx context.Context, res *Results, spec *Spec, nt *notes) (*figure, error) {
	runs, err := selectRuns(res, spec, nt)
	if err != nil {
		return nil, err
	}
	groups, err := groupRuns(runs, spec.GroupBy, "", res.Factors())
	if err != nil {
		return nil, err
	}
	f := &figure{title: spec.Title, shareX: true, shareY: true}
	if f.title == "" {
		f.title = "PIT reward model gap scores on held-out pairs"
	}
	ylabel := "density"
	if spec.Style == "histogram" {
		ylabel = "share of pairs (density)"
	}
	var counts []int
	for _, g := range mergeSameGapModel(groups) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var pairs []results.GapScore
		for _, r := range g.runs {
			bad := 0
			for _, gs := range r.Gaps {
				if finiteGap(gs) {
					pairs = append(pairs, gs)
				} else {
					bad++
				}
			}
			if bad > 0 {
				nt.add("run %s: %d of %d gap scores are NaN or infinite; left out", r.Dir, bad, len(r.Gaps))
			}
		}
		if len(pairs) == 0 {
			continue
		}
		// Share of pairs ordered as intended, g_wl > g_lw.
		ordered := 0
		for _, gs := range pairs {
			if gs.WL > gs.LW {
				ordered++
			}
		}
		title := fmt.Sprintf("%s: g_wl > g_lw %.0f%%", legendLabel(g), 100*float64(ordered)/float64(len(pairs)))
		counts = append(counts, len(pairs))
		share := []float64{100 * float64(ordered) / float64(len(pairs))}
		f.record(g.label+"/ordered", []float64{float64(len(pairs))}, share, share, share)
		p := newPanel(title, "gap score", ylabel)
		lo, hi := math.Inf(1), math.Inf(-1)
		vals := make([][]float64, len(gapSeries))
		for k, s := range gapSeries {
			for _, gs := range pairs {
				v := s.get(gs)
				vals[k] = append(vals[k], v)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		for k, s := range gapSeries {
			style := draw.LineStyle{Color: s.color, Width: lineW, Dashes: s.dash}
			var thumb interface {
				Thumbnail(*draw.Canvas)
			}
			if spec.Style == "histogram" {
				h, err := plotter.NewHistogram(binned(vals[k], lo, hi), spec.Bins)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", g.label, s.name, err)
				}
				h.Normalize(1)
				h.FillColor = translucent(s.color, 0.18)
				h.LineStyle = style
				p.Add(h)
				thumb = h
			} else {
				bw := stats.Silverman(vals[k])
				kde := stats.KDE(vals[k], bw)
				const n = 200
				a, b := lo-2*bw, hi+2*bw
				pts := make(plotter.XYs, n)
				for i := range pts {
					x := a + (b-a)*float64(i)/(n-1)
					pts[i] = plotter.XY{X: x, Y: kde(x)}
				}
				line, err := plotter.NewLine(pts)
				if err != nil {
					return nil, err
				}
				line.LineStyle = style
				p.Add(line)
				thumb = line
			}
			if len(f.panels) == 0 {
				f.addLegend(s.name, thumb)
			}
		}
		p.Y.Min = 0
		f.panels = append(f.panels, p)
	}
	if len(counts) > 0 {
		lo, hi := slices.Min(counts), slices.Max(counts)
		n := fmt.Sprint(lo)
		if hi != lo {
			n = fmt.Sprintf("%d–%d", lo, hi)
		}
		f.how(fmt.Sprintf("held-out pairs pooled over seeds (%s per panel)", n))
	}
	if len(f.panels) == 0 {
		return nil, fmt.Errorf("no gap scores (%s) in the selected runs", results.GapsFile)
	}
	return f, nil
}

// binned returns values with two zero-weight points at lo and hi, so every
// histogram of a panel uses the same bin edges.
func binned(vals []float64, lo, hi float64) plotter.XYs {
	xys := make(plotter.XYs, 0, len(vals)+2)
	xys = append(xys, plotter.XY{X: lo}, plotter.XY{X: hi})
	for _, v := range vals {
		xys = append(xys, plotter.XY{X: v, Y: 1})
	}
	return slices.Clip(xys)
}

// mergeSameGapModel merges the groups whose runs used the same PIT reward
// models (equal pit_rm stage keys): their gap scores are the same numbers,
// drawn once under the labels of every group that shares them.
func mergeSameGapModel(groups []*group) []*group {
	var out []*group
	bySig := map[string]*group{}
	for _, g := range groups {
		var keys []string
		for _, r := range g.runs {
			for _, st := range r.Manifest.Stages {
				if st.Name == "pit_rm" {
					keys = append(keys, st.Key)
				}
			}
		}
		slices.Sort(keys)
		sig := strings.Join(keys, ",")
		if m, ok := bySig[sig]; ok && sig != "" {
			m.label = legendLabel(m) + " = " + legendLabel(g)
			m.baseline = false // the label says which is the baseline
			continue
		}
		c := *g
		bySig[sig] = &c
		out = append(out, &c)
	}
	if len(out) == 1 && len(groups) > 1 {
		out[0].label = fmt.Sprintf("all %d arms (one pit_rm)", len(groups))
	}
	return out
}
