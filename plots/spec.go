package plots

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/pit-lab/pit/core/experiment"
)

// Kind names a kind of figure.
type Kind string

// Figure kinds.
const (
	// Curve: a logged metric against step, one line per group (mean over
	// seeds) with a shaded bootstrap CI band; one panel per metric.
	Curve Kind = "curve"
	// Iterations: Δ = win% − lose% of y_i against y_0 per improvement
	// iteration i, one line per group with CI error bars; one panel per judge.
	Iterations Kind = "iterations"
	// Outcomes: stacked win/tie/lose bars per iteration; one panel per group.
	Outcomes Kind = "outcomes"
	// Ablation: one bar per group for a metric with CI error bars, the
	// baseline arm marked; one panel per judge or metric.
	Ablation Kind = "ablation"
	// Gaps: the PIT reward model's g_wl, g_ww, g_ll, g_lw on held-out pairs,
	// overlaid densities or histograms; one panel per group.
	Gaps Kind = "gaps"
	// Sweep: a metric against a numeric factor (or the eval temperature),
	// one line per group with CI error bars; one panel per judge or metric.
	Sweep Kind = "sweep"
)

// Kinds lists every figure kind.
var Kinds = []Kind{Curve, Iterations, Outcomes, Ablation, Gaps, Sweep}

// Spec declares one figure: a [[plot]] table of an experiment file. Zero
// fields take the defaults described on each field (see SetDefaults).
type Spec struct {
	Kind  Kind   `toml:"kind"`  // required: curve, iterations, outcomes, ablation, gaps or sweep
	Title string `toml:"title"` // figure title; default none

	// What to plot.
	Metric  string   `toml:"metric"`  // a metrics.jsonl metric, or an eval measure (delta, win, tie, lose, mean_oracle, copy_rate); default delta
	Metrics []string `toml:"metrics"` // several metrics: one panel each (curve, ablation, sweep)
	Stage   string   `toml:"stage"`   // the stage that logged Metric; needed only when several did
	X       string   `toml:"x"`       // sweep: the numeric factor on the x axis, or "temperature" (of eval rows)
	LogX    bool     `toml:"log_x"`   // sweep: logarithmic x axis (for factors such as β or a learning rate)

	// Which runs and rows.
	GroupBy     string         `toml:"group_by"`    // factor whose values make the lines/bars; default the arm
	Filter      map[string]any `toml:"filter"`      // keep only runs whose factors have these values
	Method      string         `toml:"method"`      // eval method; default pit
	Methods     []string       `toml:"methods"`     // several eval methods (e.g. pit, null, best-of-n): one line/bar/panel each per group
	Judge       string         `toml:"judge"`       // eval judge; default: all judges, one panel each (outcomes: the first)
	Judges      []string       `toml:"judges"`      // several judges: one panel each
	Iteration   int            `toml:"iteration"`   // ablation, sweep: the improvement iteration of eval measures; default 1
	Temperature *float64       `toml:"temperature"` // eval temperature; default the lowest present (sweep over temperature: all)

	// Statistics.
	Stat      string  `toml:"stat"`      // mean, median or iqm over seeds; default mean
	CI        string  `toml:"ci"`        // seeds (bootstrap over seeds, and prompts within them), prompts (resample prompts only) or none; default seeds
	Level     float64 `toml:"level"`     // confidence level; default 0.95
	Resamples int     `toml:"resamples"` // bootstrap resamples; default 2000
	Seed      int64   `toml:"seed"`      // bootstrap seed; default 1
	Smoothing float64 `toml:"smoothing"` // curve: EMA weight in [0, 1) applied to each seed; default 0
	Style     string  `toml:"style"`     // gaps: density or histogram; default density
	Bins      int     `toml:"bins"`      // gaps histogram bins; default 30

	// Output.
	Output string `toml:"output"` // file path, relative to the output directory; the extension picks the format
	Format string `toml:"format"` // png, svg or pdf when Output has no extension; default png
	Width  string `toml:"width"`  // e.g. "3.3in", "8.5cm", "240pt"; default 3.3in per panel column (one paper column)
	Height string `toml:"height"` // default 2.4in per panel row, plus the legend
	DPI    int    `toml:"dpi"`    // PNG resolution; default 300
}

// Formats are the output formats, chosen by file extension.
var Formats = []string{"png", "svg", "pdf"}

var evalMeasures = []string{"delta", "win", "tie", "lose", "mean_oracle", "copy_rate"}

// isEvalMeasure reports whether metric names a column of eval.jsonl rather
// than a metrics.jsonl metric, given the stage selector.
func isEvalMeasure(metric, stage string) bool {
	return (stage == "" || stage == "eval") && slices.Contains(evalMeasures, metric)
}

// Validate reports every problem of the spec at once, each as an
// *experiment.FieldError whose key is the offending [[plot]] key.
func (s *Spec) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, experiment.Errorf(key, format, args...)) }
	if !slices.Contains(Kinds, s.Kind) {
		bad("kind", "%q is not a figure kind (want one of %s)", s.Kind, joinKinds())
	}
	if s.Metric != "" && len(s.Metrics) > 0 {
		bad("metrics", "give metric or metrics, not both")
	}
	if s.Kind == Curve && s.Metric == "" && len(s.Metrics) == 0 {
		bad("metric", "a curve needs a metric (or metrics)")
	}
	if s.Kind == Curve {
		for _, m := range append([]string{s.Metric}, s.Metrics...) {
			if m != "" && isEvalMeasure(m, s.Stage) {
				bad("metric", "%q is an eval measure; curves plot metrics.jsonl metrics against step (use kind iterations)", m)
			}
		}
	}
	if s.LogX && s.Kind != Sweep {
		bad("log_x", "only sweeps have a numeric x axis")
	}
	if s.Kind == Sweep && s.X == "" {
		bad("x", "a sweep needs x, a numeric factor or \"temperature\"")
	}
	if s.Method != "" && len(s.Methods) > 0 {
		bad("methods", "give method or methods, not both")
	}
	if s.Judge != "" && len(s.Judges) > 0 {
		bad("judges", "give judge or judges, not both")
	}
	if s.Iteration < 0 {
		bad("iteration", "%d is negative", s.Iteration)
	}
	switch s.Stat {
	case "", "mean", "median", "iqm":
	default:
		bad("stat", "%q (want mean, median or iqm)", s.Stat)
	}
	switch s.CI {
	case "", "seeds", "prompts", "none":
	default:
		bad("ci", "%q (want seeds, prompts or none)", s.CI)
	}
	if s.Level != 0 && !(s.Level > 0 && s.Level < 1) {
		bad("level", "%v is not in (0, 1)", s.Level)
	}
	if s.Resamples < 0 {
		bad("resamples", "%d is negative", s.Resamples)
	}
	if !(s.Smoothing >= 0 && s.Smoothing < 1) {
		bad("smoothing", "%v is not in [0, 1)", s.Smoothing)
	}
	switch s.Style {
	case "", "density", "histogram":
	default:
		bad("style", "%q (want density or histogram)", s.Style)
	}
	if s.Bins < 0 {
		bad("bins", "%d is negative", s.Bins)
	}
	if s.Format != "" && !slices.Contains(Formats, strings.ToLower(s.Format)) {
		bad("format", "%q (want png, svg or pdf)", s.Format)
	}
	if ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(s.Output)), "."); ext != "" && !slices.Contains(Formats, ext) {
		bad("output", "%q: extension .%s is not png, svg or pdf", s.Output, ext)
	}
	if filepath.IsAbs(s.Output) || slices.Contains(strings.Split(filepath.ToSlash(s.Output), "/"), "..") {
		bad("output", "%q must be a relative path inside the output directory", s.Output)
	}
	for _, l := range []struct{ name, v string }{{"width", s.Width}, {"height", s.Height}} {
		if l.v == "" {
			continue
		}
		if n, err := ParseLength(l.v); err != nil {
			bad(l.name, "%v", err)
		} else if n <= 0 {
			bad(l.name, "%q is not positive", l.v)
		}
	}
	if s.DPI < 0 || s.DPI > 1200 {
		bad("dpi", "%d is not in 1..1200", s.DPI)
	}
	return errors.Join(errs...)
}

// SetDefaults fills the zero fields that have a fixed default. (Judges,
// temperature and the panel size depend on the data and are settled when
// the figure is drawn.)
func (s *Spec) SetDefaults() {
	if s.Metric == "" && len(s.Metrics) == 0 && s.Kind != Gaps && s.Kind != Outcomes {
		s.Metric = "delta"
	}
	if s.Method == "" && len(s.Methods) == 0 {
		s.Method = "pit"
	}
	if len(s.Methods) == 1 {
		s.Method, s.Methods = s.Methods[0], nil
	}
	if len(s.Methods) > 0 {
		s.Method = strings.Join(s.Methods, ", ") // for titles and names only
	}
	if s.Iteration == 0 {
		s.Iteration = 1
	}
	if s.Stat == "" {
		s.Stat = "mean"
	}
	if s.CI == "" {
		s.CI = "seeds"
	}
	if s.Level == 0 {
		s.Level = 0.95
	}
	if s.Resamples == 0 {
		s.Resamples = 2000
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	if s.Style == "" {
		s.Style = "density"
	}
	if s.Bins == 0 {
		s.Bins = 30
	}
	if s.DPI == 0 {
		s.DPI = 300
	}
	if s.Format == "" {
		s.Format = strings.TrimPrefix(strings.ToLower(filepath.Ext(s.Output)), ".")
	}
	if s.Format == "" {
		s.Format = "png"
	}
	s.Format = strings.ToLower(s.Format)
	if s.Output == "" {
		s.Output = s.defaultName()
	}
	if filepath.Ext(s.Output) == "" {
		s.Output += "." + s.Format
	}
}

// metrics returns the metric of every panel.
func (s *Spec) metrics() []string {
	if len(s.Metrics) > 0 {
		return s.Metrics
	}
	return []string{s.Metric}
}

func (s *Spec) defaultName() string {
	parts := []string{string(s.Kind)}
	if s.Stage != "" {
		parts = append(parts, s.Stage)
	}
	if s.Kind != Gaps && s.Kind != Outcomes {
		parts = append(parts, s.metrics()...)
	}
	if s.Kind == Sweep {
		parts = append(parts, "vs", s.X)
	}
	if s.GroupBy != "" {
		parts = append(parts, "by", s.GroupBy)
	}
	if s.Judge != "" {
		parts = append(parts, s.Judge)
	}
	name := strings.Join(parts, "-")
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, name)
}

// ParseLength parses a length such as "3.3in", "8.5cm", "85mm" or "240pt"
// (a bare number is in points).
func ParseLength(s string) (vg.Length, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		unit   vg.Length
	}{{"in", vg.Inch}, {"cm", vg.Centimeter}, {"mm", vg.Millimeter}, {"pt", vg.Points(1)}, {"", vg.Points(1)}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil {
				return 0, fmt.Errorf("length %q: want a number with unit in, cm, mm or pt", s)
			}
			return vg.Length(v) * u.unit, nil
		}
	}
	return 0, fmt.Errorf("length %q: want a number with unit in, cm, mm or pt", s)
}

func joinKinds() string {
	var ks []string
	for _, k := range Kinds {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}
