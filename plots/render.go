// Package plots draws pit's paper figures from a results directory with
// gonum.org/v1/plot, and exports the results as a tidy CSV.
//
// A figure is declared by a Spec (a [[plot]] table of an experiment file):
// learning curves with bootstrap CI bands, Δ against improvement iteration,
// win/tie/lose bars, ablation bars with the baseline marked, gap-score
// distributions and sweeps over a numeric factor, each with one panel per
// judge or metric and aligned axes. Without declared figures, DefaultSpecs
// picks a sensible set for what the results contain. The output format
// (PNG, SVG or PDF) follows the file extension.
//
// Figures never crash on diverged runs: runs with NaN metrics, failed runs
// and missing values are left out and reported in Output.Notes.
package plots

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pit-lab/pit/core/results"
)

// Options apply to every figure drawn.
type Options struct {
	OutDir string // where figures go; Spec.Output is relative to it; default "."
	Format string // if set (png, svg or pdf), overrides every spec's format and extension
	DPI    int    // if set (1..1200), overrides every spec's PNG resolution
}

// Output is one figure written.
type Output struct {
	Path  string   // the file written
	Notes []string // what was left out and why (diverged or failed runs, missing values)
}

// Draw validates spec, fills its defaults, draws it from res and writes it
// atomically under opt.OutDir.
func Draw(ctx context.Context, res *Results, spec Spec, opt Options) (Output, error) {
	if err := spec.Validate(); err != nil {
		return Output{}, fmt.Errorf("plots: %s figure: %w", spec.Kind, err)
	}
	if opt.Format != "" {
		fm := strings.ToLower(opt.Format)
		if !slices.Contains(Formats, fm) {
			return Output{}, fmt.Errorf("plots: format %q (want png, svg or pdf)", opt.Format)
		}
		spec.Format = fm
		if spec.Output != "" {
			spec.Output = strings.TrimSuffix(spec.Output, filepath.Ext(spec.Output)) + "." + fm
		}
	}
	if opt.DPI != 0 {
		if opt.DPI < 0 || opt.DPI > 1200 {
			return Output{}, fmt.Errorf("plots: dpi %d is not in 1..1200", opt.DPI)
		}
		spec.DPI = opt.DPI
	}
	spec.SetDefaults()
	var nt notes
	f, err := build(ctx, res, &spec, &nt)
	if err != nil {
		return Output{Notes: nt.list}, fmt.Errorf("plots: %s: %w", spec.Output, err)
	}
	w, h, err := f.size(&spec)
	if err != nil {
		return Output{Notes: nt.list}, fmt.Errorf("plots: %s: %w", spec.Output, err)
	}
	data, err := f.encode(w, h, spec.Format, spec.DPI)
	if err != nil {
		return Output{Notes: nt.list}, fmt.Errorf("plots: %s: %w", spec.Output, err)
	}
	dir := opt.OutDir
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, filepath.FromSlash(spec.Output))
	if err := results.WriteFileAtomic(path, data); err != nil {
		return Output{Notes: nt.list}, fmt.Errorf("plots: %w", err)
	}
	// Figures are for sharing: readable by all, like any file a user makes.
	if err := os.Chmod(path, 0o644); err != nil {
		return Output{Notes: nt.list}, fmt.Errorf("plots: %w", err)
	}
	return Output{Path: path, Notes: nt.list}, nil
}

// outputName is the file a spec will be written to, relative to OutDir.
func outputName(s Spec, opt Options) string {
	if opt.Format != "" && s.Output != "" {
		s.Output = strings.TrimSuffix(s.Output, filepath.Ext(s.Output)) + "." + strings.ToLower(opt.Format)
	}
	if opt.Format != "" {
		s.Format = strings.ToLower(opt.Format)
	}
	s.SetDefaults()
	return filepath.Clean(filepath.FromSlash(s.Output))
}

func build(ctx context.Context, res *Results, spec *Spec, nt *notes) (*figure, error) {
	var f *figure
	var err error
	switch spec.Kind {
	case Curve:
		f, err = drawCurve(ctx, res, spec, nt)
	case Iterations:
		f, err = drawIterations(ctx, res, spec, nt)
	case Outcomes:
		f, err = drawOutcomes(ctx, res, spec, nt)
	case Ablation:
		f, err = drawAblation(ctx, res, spec, nt)
	case Gaps:
		f, err = drawGaps(ctx, res, spec, nt)
	case Sweep:
		f, err = drawSweep(ctx, res, spec, nt)
	default:
		err = fmt.Errorf("kind %q is not a figure kind", spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	if len(f.panels) == 0 || len(f.data) == 0 {
		return nil, fmt.Errorf("nothing to draw: every run was left out or had no values")
	}
	return f, nil
}

// DrawAll draws every spec, going on past failures; the error joins every
// figure's error.
func DrawAll(ctx context.Context, res *Results, specs []Spec, opt Options) ([]Output, error) {
	var outs []Output
	var errs []error
	written := map[string]int{} // output path -> figure number
	for i, s := range specs {
		if err := ctx.Err(); err != nil {
			return outs, err
		}
		name := outputName(s, opt)
		if j, dup := written[name]; dup {
			errs = append(errs, fmt.Errorf("plots: figure #%d: output %s is already figure #%d's; set output", i+1, name, j))
			continue
		}
		written[name] = i + 1
		o, err := Draw(ctx, res, s, opt)
		if err != nil {
			errs = append(errs, err)
			if len(o.Notes) > 0 {
				outs = append(outs, o)
			}
			continue
		}
		outs = append(outs, o)
	}
	return outs, errors.Join(errs...)
}

// paperCurves are the learning curves of the default set, per stage: the
// few series a paper shows (the training loss, the reward and what the
// oracle says of it, the KL to the reference).
var paperCurves = map[string][]string{
	"sft":     {"loss", "heldout_loss"},
	"pit_sft": {"loss", "heldout_loss"},
	"rm":      {"loss", "heldout_oracle_accuracy"},
	"pit_rm":  {"loss", "heldout_oracle_accuracy"},
	"rlhf":    {"reward", "oracle", "kl"},
	"pit_rl":  {"reward", "oracle_gain", "kl"},
}

// DefaultSpecs returns the figures drawn when an experiment declares none:
// a curated set of learning curves (paperCurves, the series that vary), and
// where the results hold them, Δ against iteration and win/tie/lose bars
// for every eval method, ablation bars of Δ at iteration 1 when there are
// several arms, gap-score densities, and sweeps over every numeric factor
// with three or more values and over the eval temperature. AllSpecs draws
// every logged metric instead.
func DefaultSpecs(res *Results) []Spec {
	return defaultSpecs(res, false)
}

// AllSpecs is DefaultSpecs with a learning-curve figure for every stage and
// every metric it logged (pit plot --all).
func AllSpecs(res *Results) []Spec {
	return defaultSpecs(res, true)
}

// varies reports whether metric of stage takes more than one value over
// the runs' logs.
func varies(res *Results, stage, metric string) bool {
	first, seen := 0.0, false
	for _, r := range res.Runs {
		for _, m := range r.Metrics {
			if m.Stage != stage || m.Name != metric {
				continue
			}
			if !seen {
				first, seen = m.Value, true
			} else if m.Value != first {
				return true
			}
		}
	}
	return false
}

func defaultSpecs(res *Results, all bool) []Spec {
	var specs []Spec
	stageMetrics := map[string][]string{}
	var stageOrder []string
	for _, r := range res.Runs {
		for _, m := range r.Metrics {
			if _, ok := stageMetrics[m.Stage]; !ok {
				stageOrder = append(stageOrder, m.Stage)
			}
			if !slices.Contains(stageMetrics[m.Stage], m.Name) {
				stageMetrics[m.Stage] = append(stageMetrics[m.Stage], m.Name)
			}
		}
	}
	for _, st := range stageOrder {
		metrics := stageMetrics[st]
		if !all {
			metrics = slices.DeleteFunc(slices.Clone(paperCurves[st]), func(m string) bool {
				return !slices.Contains(stageMetrics[st], m) || !varies(res, st, m)
			})
		}
		if len(metrics) > 0 {
			specs = append(specs, Spec{Kind: Curve, Stage: st, Metrics: metrics, Output: "curve-" + safeName(st)})
		}
	}
	ms := methods(res.Runs)
	arms := map[string]bool{}
	for _, r := range res.Runs {
		arms[r.Label()] = true
	}
	var temps []float64
	for _, m := range ms {
		specs = append(specs,
			Spec{Kind: Iterations, Method: m, Output: "iterations-" + safeName(m)},
			Spec{Kind: Outcomes, Method: m, Output: "outcomes-" + safeName(m)})
		if len(arms) > 1 {
			specs = append(specs, Spec{Kind: Ablation, Method: m, Output: "ablation-" + safeName(m)})
		}
		_, t := evalKeys(res.Runs, m)
		if len(t) > len(temps) {
			temps = t
		}
	}
	hasGaps := slices.ContainsFunc(res.Runs, func(r *Run) bool { return len(r.Gaps) > 0 })
	if hasGaps {
		specs = append(specs, Spec{Kind: Gaps, Output: "gaps"})
	}
	if len(ms) > 0 {
		m := "pit"
		if !slices.Contains(ms, m) {
			m = ms[0]
		}
		if len(temps) >= 2 {
			specs = append(specs, Spec{Kind: Sweep, X: "temperature", Method: m, Output: "sweep-temperature"})
		}
		for _, fac := range res.Factors() {
			if numericLevels(res, fac) >= 3 {
				specs = append(specs, Spec{Kind: Sweep, X: fac, Method: m, Output: "sweep-" + safeName(fac)})
			}
		}
	}
	return specs
}

// numericLevels counts the distinct values of a factor when all are numbers.
func numericLevels(res *Results, fac string) int {
	seen := map[float64]bool{}
	for _, r := range res.Runs {
		v, ok := numericValue(r.Manifest.Factors[fac])
		if !ok {
			return 0
		}
		seen[v] = true
	}
	return len(seen)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// DrawExperiment loads the results directory of an experiment and draws
// specs into opt.OutDir (default <dir>/figures). It is what pit run calls
// at the end of a grid with the experiment's declared figures; with no
// specs it draws nothing.
func DrawExperiment(ctx context.Context, dir string, specs []Spec, opt Options) ([]Output, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	res, err := Load(ctx, dir)
	if err != nil {
		return nil, err
	}
	if opt.OutDir == "" {
		opt.OutDir = filepath.Join(dir, "figures")
	}
	return DrawAll(ctx, res, specs, opt)
}
