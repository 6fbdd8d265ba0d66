package plots

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/stats"
)

// notes collects what a figure left out and why, without repeats.
type notes struct {
	list []string
	seen map[string]bool
}

func (n *notes) add(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	if !n.seen[s] {
		n.seen[s] = true
		n.list = append(n.list, s)
	}
}

// selectRuns returns the finished runs that pass the spec's filter.
func selectRuns(res *Results, spec *Spec, nt *notes) ([]*Run, error) {
	factors := res.Factors()
	for _, k := range slices.Sorted(maps.Keys(spec.Filter)) {
		if !slices.Contains(factors, k) {
			return nil, fmt.Errorf("filter: no factor named %q (factors: %s)", k, listOrNone(factors))
		}
	}
	var out []*Run
	for _, r := range res.Runs {
		if !matches(r, spec.Filter) {
			continue
		}
		if st := r.Manifest.Status; st != "" && st != results.StatusDone {
			why := ""
			if r.Manifest.Error != "" {
				why = ": " + r.Manifest.Error
			}
			nt.add("run %s: status %s%s; left out", r.Dir, st, why)
			continue
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		if len(spec.Filter) > 0 {
			return nil, fmt.Errorf("no finished run matches filter %v", formatFilter(spec.Filter))
		}
		return nil, fmt.Errorf("no finished run in %s", res.Dir)
	}
	return out, nil
}

func matches(r *Run, filter map[string]any) bool {
	for k, want := range filter {
		got, ok := r.Manifest.Factors[k]
		if !ok || !sameValue(got, want) {
			return false
		}
	}
	return true
}

// sameValue compares factor values by their written form, numerically when
// both are numbers, so 0.4, "0.4" and int 1 vs 1.0 compare as expected.
func sameValue(a, b any) bool {
	x, okx := numericValue(a)
	y, oky := numericValue(b)
	if okx && oky {
		return x == y
	}
	return formatValue(a) == formatValue(b)
}

func formatFilter(f map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(f)) {
		parts = append(parts, k+"="+formatValue(f[k]))
	}
	return strings.Join(parts, ", ")
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// group is the runs behind one line or bar: the seeds of an arm, or all runs
// sharing a value of the group_by factor.
type group struct {
	label    string
	baseline bool
	num      float64 // the group_by value, when numeric
	numeric  bool
	runs     []*Run
	method   string // the eval method of the group's values, if not the spec's

	armIndex, methodIndex int // with method: the indices of its arm and method
}

// methodOf returns the eval method of a group's values.
func methodOf(g *group, spec *Spec) string {
	if g.method != "" {
		return g.method
	}
	return spec.Method
}

// evalMethods lists the eval methods a spec plots.
func (s *Spec) evalMethods() []string {
	if len(s.Methods) > 0 {
		return s.Methods
	}
	return []string{s.Method}
}

// byMethod splits every group into one per eval method when the spec plots
// several, labelled "group · method" (just the method for a single group,
// which then marks none of them as the baseline).
func byMethod(groups []*group, spec *Spec) []*group {
	if len(spec.Methods) == 0 {
		return groups
	}
	var out []*group
	for gi, g := range groups {
		for mi, m := range spec.Methods {
			label := g.label + " · " + m
			if len(groups) == 1 {
				label = m
			}
			c := *g
			c.label, c.method, c.armIndex, c.methodIndex = label, m, gi, mi
			if len(groups) == 1 {
				c.baseline = false // the methods of one arm: none of them is the baseline arm
			}
			out = append(out, &c)
		}
	}
	return out
}

// groupRuns groups runs by the factor by (by arm when empty). A factor named
// in drop is left out of arm labels (a sweep's x factor).
func groupRuns(runs []*Run, by, drop string, allFactors []string) ([]*group, error) {
	if by != "" && !slices.Contains(allFactors, by) {
		return nil, fmt.Errorf("group_by: no factor named %q (factors: %s)", by, listOrNone(allFactors))
	}
	idx := map[string]*group{}
	var gs []*group
	for _, r := range runs {
		var key string
		var v any
		switch {
		case by != "":
			var ok bool
			if v, ok = r.Manifest.Factors[by]; !ok {
				return nil, fmt.Errorf("group_by: run %s has no factor %q", r.Dir, by)
			}
			key = formatValue(v)
		case drop != "":
			key = labelWithout(r, drop)
		default:
			key = r.Label()
		}
		g := idx[key]
		if g == nil {
			g = &group{label: key}
			g.num, g.numeric = numericValue(v)
			idx[key] = g
			gs = append(gs, g)
		}
		g.runs = append(g.runs, r)
		g.baseline = g.baseline || r.Manifest.Baseline
	}
	slices.SortStableFunc(gs, func(a, b *group) int {
		if a.baseline != b.baseline {
			if a.baseline {
				return -1
			}
			return 1
		}
		if a.numeric && b.numeric {
			return cmp.Compare(a.num, b.num)
		}
		return strings.Compare(a.label, b.label)
	})
	return gs, nil
}

// labelWithout labels a run by its factors other than drop.
func labelWithout(r *Run, drop string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Manifest.Factors)) {
		if k != drop {
			parts = append(parts, k+"="+formatValue(r.Manifest.Factors[k]))
		}
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, ", ")
}

// metricStage resolves which stage's metric to plot.
func metricStage(runs []*Run, metric, stage string) (string, error) {
	stages := map[string]bool{}
	all := map[string]bool{}
	for _, r := range runs {
		for _, m := range r.Metrics {
			all[m.Stage+"/"+m.Name] = true
			if m.Name == metric {
				stages[m.Stage] = true
			}
		}
	}
	if len(stages) == 0 {
		avail := slices.Sorted(maps.Keys(all))
		if len(avail) > 24 {
			avail = append(avail[:24], "...")
		}
		return "", fmt.Errorf("metric %q is not in metrics.jsonl of the selected runs (stage/metric available: %s)", metric, listOrNone(avail))
	}
	names := slices.Sorted(maps.Keys(stages))
	if stage != "" {
		if !stages[stage] {
			return "", fmt.Errorf("metric %q is not logged by stage %q (logged by: %s)", metric, stage, strings.Join(names, ", "))
		}
		return stage, nil
	}
	if len(names) > 1 {
		return "", fmt.Errorf("metric %q is logged by stages %s: set stage", metric, strings.Join(names, ", "))
	}
	return names[0], nil
}

// series returns a run's values of stage/metric in step order.
func series(r *Run, stage, metric string) (steps []int, vals []float64) {
	var ms []results.Metric
	for _, m := range r.Metrics {
		if m.Stage == stage && m.Name == metric {
			ms = append(ms, m)
		}
	}
	slices.SortStableFunc(ms, func(a, b results.Metric) int { return cmp.Compare(a.Step, b.Step) })
	for _, m := range ms {
		steps = append(steps, m.Step)
		vals = append(vals, m.Value)
	}
	return steps, vals
}

// evalKeys lists the judges and temperatures of a method's eval rows and
// outcomes.
func evalKeys(runs []*Run, method string) (judges []string, temps []float64) {
	js, ts := map[string]bool{}, map[float64]bool{}
	for _, r := range runs {
		for _, e := range r.Eval {
			if e.Method == method {
				js[e.Judge], ts[e.Temperature] = true, true
			}
		}
		for _, o := range r.Outcomes {
			if o.Method == method {
				js[o.Judge], ts[o.Temperature] = true, true
			}
		}
	}
	judges = slices.Sorted(maps.Keys(js))
	// The ground-truth oracle first: it is the judge that matters most.
	if i := slices.Index(judges, "oracle"); i > 0 {
		judges = append([]string{"oracle"}, slices.Delete(judges, i, i+1)...)
	}
	return judges, slices.Sorted(maps.Keys(ts))
}

func methods(runs []*Run) []string {
	ms := map[string]bool{}
	for _, r := range runs {
		for _, e := range r.Eval {
			ms[e.Method] = true
		}
		for _, o := range r.Outcomes {
			ms[o.Method] = true
		}
	}
	return slices.Sorted(maps.Keys(ms))
}

// evalPanels settles the judges (one panel each) and the temperature of an
// eval figure.
func evalPanels(runs []*Run, spec *Spec, nt *notes) (judges []string, temp float64, err error) {
	var allJ []string
	var temps []float64
	for _, m := range spec.evalMethods() {
		js, ts := evalKeys(runs, m)
		if len(js) == 0 {
			return nil, 0, fmt.Errorf("no eval results for method %q in the selected runs (methods: %s)", m, listOrNone(methods(runs)))
		}
		for _, j := range js {
			if !slices.Contains(allJ, j) {
				allJ = append(allJ, j)
			}
		}
		for _, t := range ts {
			if !slices.Contains(temps, t) {
				temps = append(temps, t)
			}
		}
	}
	slices.Sort(temps)
	switch {
	case len(spec.Judges) > 0:
		judges = spec.Judges
	case spec.Judge != "":
		judges = []string{spec.Judge}
	default:
		judges = allJ
	}
	for _, j := range judges {
		if !slices.Contains(allJ, j) {
			return nil, 0, fmt.Errorf("judge %q has no eval results for %s (judges: %s)", j, quoteList(spec.evalMethods()), strings.Join(allJ, ", "))
		}
	}
	if spec.Temperature != nil {
		if !slices.Contains(temps, *spec.Temperature) {
			return nil, 0, fmt.Errorf("temperature %v has no eval results (temperatures: %s)", *spec.Temperature, formatFloats(temps))
		}
		return judges, *spec.Temperature, nil
	}
	// Each run is plotted at its own lowest temperature: usually the same
	// for all runs, but not when the temperature is a grid factor.
	lowest := map[float64]bool{}
	for _, r := range runs {
		for _, m := range spec.evalMethods() {
			if _, ts := evalKeys([]*Run{r}, m); len(ts) > 0 {
				lowest[ts[0]] = true
			}
		}
	}
	temp = math.NaN()
	if len(lowest) == 1 {
		temp = temps[0]
	}
	if len(temps) > 1 && spec.X != "temperature" {
		if len(lowest) == 1 {
			nt.add("eval temperatures %s present; plotting T=%v (set temperature to choose)", formatFloats(temps), temps[0])
		} else {
			nt.add("eval temperatures %s present; plotting each run's lowest (set temperature to choose)", formatFloats(temps))
		}
	}
	return judges, temp, nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	if len(q) == 1 {
		return "method " + q[0]
	}
	return "methods " + strings.Join(q, ", ")
}

func formatFloats(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, formatValue(x))
	}
	return strings.Join(s, ", ")
}

// evalSel picks the eval rows and outcomes of one cell of a figure.
type evalSel struct {
	method, judge string
	temp          float64
	iter          int
}

// tempFor returns the eval temperature of sel in run r: sel.temp, or when
// that is NaN, the lowest temperature of the run's results for the method.
func (sel evalSel) tempFor(r *Run) float64 {
	if !math.IsNaN(sel.temp) {
		return sel.temp
	}
	if _, ts := evalKeys([]*Run{r}, sel.method); len(ts) > 0 {
		return ts[0]
	}
	return math.NaN()
}

// outcomes returns a run's judgements for sel.
func (sel evalSel) outcomes(r *Run) []int {
	var out []int
	temp := sel.tempFor(r)
	for _, o := range r.Outcomes {
		if o.Method == sel.method && o.Judge == sel.judge && o.Temperature == temp && o.Iteration == sel.iter {
			out = append(out, o.Result)
		}
	}
	return out
}

// row returns a run's eval row for sel.
func (sel evalSel) row(r *Run) (results.EvalRow, bool) {
	temp := sel.tempFor(r)
	for _, e := range r.Eval {
		if e.Method == sel.method && e.Judge == sel.judge && e.Temperature == temp && e.Iteration == sel.iter {
			return e, true
		}
	}
	return results.EvalRow{}, false
}

// measure returns an eval measure of a row, in the unit plotted:
// percentages for win, tie, lose and Δ (computed as 100·(win − lose)).
func measure(e results.EvalRow, name string) float64 {
	switch name {
	case "delta":
		return 100 * (e.Win - e.Lose)
	case "win":
		return 100 * e.Win
	case "tie":
		return 100 * e.Tie
	case "lose":
		return 100 * e.Lose
	case "mean_oracle":
		return e.MeanOracle
	case "copy_rate":
		return e.CopyRate
	}
	return math.NaN()
}

func measureLabel(name string) string {
	switch name {
	case "delta":
		return "Δ = win% − lose%"
	case "win", "tie", "lose":
		return name + " (%)"
	case "mean_oracle":
		return "mean oracle score"
	case "copy_rate":
		return "copy rate"
	}
	return name
}

// bootstrap returns the spec's bootstrap settings.
func (s *Spec) bootstrap() stats.Bootstrap {
	return stats.Bootstrap{Resamples: s.Resamples, Level: s.Level, Seed: uint64(s.Seed)}
}

// cell is one aggregated point: a statistic over seeds with its interval.
type cell struct {
	stats.Interval
	n     int    // runs (seeds) behind it
	hasCI bool   // false with one seed or ci = none
	how   string // how it was aggregated, for the figure's subtitle
}

// summarize aggregates one value per run.
func summarize(vals []float64, spec *Spec) (cell, error) {
	stat, err := stats.ByName(spec.Stat)
	if err != nil {
		return cell{}, err
	}
	c := cell{n: len(vals)}
	if len(vals) == 0 {
		return c, errNoData
	}
	if len(vals) < 2 || spec.CI == "none" {
		p := stat(slices.Clone(vals))
		c.Interval = stats.Interval{Point: p, Lo: p, Hi: p}
		c.how = spec.Stat + " over seeds; no CI"
		if len(vals) < 2 && spec.CI != "none" {
			c.how = "one seed: no CI"
		}
		return c, nil
	}
	c.how = fmt.Sprintf("%s over seeds; %g%% bootstrap CI over seeds", spec.Stat, 100*spec.Level) + fewSeeds(len(vals))
	iv, err := spec.bootstrap().CI(vals, stat)
	if err != nil {
		return c, err
	}
	c.Interval, c.hasCI = iv, true
	return c, nil
}

// evalCell aggregates an eval measure over the runs of a group. Δ with
// per-prompt outcomes in every run gets its interval from resampling
// prompts (and seeds, with ci = seeds); otherwise one value per run is
// bootstrapped over runs.
func evalCell(g *group, sel evalSel, name string, spec *Spec, nt *notes) (cell, error) {
	if name == "delta" {
		var groups [][]int
		for _, r := range g.runs {
			if o := sel.outcomes(r); len(o) > 0 {
				groups = append(groups, o)
			}
		}
		if len(groups) == len(g.runs) && len(groups) > 0 {
			if spec.CI == "none" {
				t, err := stats.Count(slices.Concat(groups...))
				if err != nil {
					return cell{}, err
				}
				d := t.Delta()
				return cell{Interval: stats.Interval{Point: d, Lo: d, Hi: d}, n: len(groups), how: "Δ pooled over seeds, no CI"}, nil
			}
			b := spec.bootstrap()
			var iv stats.Interval
			var err error
			if spec.CI == "prompts" {
				iv, err = b.Delta(groups)
			} else {
				iv, err = b.DeltaOverSeeds(groups)
			}
			if err != nil {
				return cell{}, fmt.Errorf("%s: %w", g.label, err)
			}
			how := fmt.Sprintf("Δ pooled over seeds; %g%% CI: resampling seeds, then prompts", 100*spec.Level)
			if spec.CI == "prompts" {
				how = fmt.Sprintf("Δ pooled over seeds; %g%% CI: resampling prompts within seeds", 100*spec.Level)
			}
			if spec.CI != "prompts" {
				how += fewSeeds(len(groups))
			}
			return cell{Interval: iv, n: len(groups), hasCI: true, how: how}, nil
		}
	}
	var vals []float64
	for _, r := range g.runs {
		e, ok := sel.row(r)
		if !ok {
			continue
		}
		v := measure(e, name)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			nt.add("run %s: %s of %s/%s iteration %d is not a number; left out", r.Dir, name, sel.method, sel.judge, sel.iter)
			continue
		}
		vals = append(vals, v)
	}
	if name == "delta" && spec.CI == "prompts" && len(vals) > 0 {
		nt.add("%s: no per-prompt outcomes; the CI is over seeds", g.label)
	}
	return summarize(vals, spec)
}

// fewSeeds warns that a bootstrap over fewer than five seeds can only
// resample the few values there are: its interval is rough.
func fewSeeds(n int) string {
	if n < 5 {
		return " (under 5 seeds: rough)"
	}
	return ""
}

// finalValue returns the last logged value of stage/metric in a run.
func finalValue(r *Run, stage, metric string, nt *notes) (float64, bool) {
	steps, vals := series(r, stage, metric)
	if len(vals) == 0 {
		return 0, false
	}
	v := vals[len(vals)-1]
	if math.IsNaN(v) || math.IsInf(v, 0) {
		nt.add("run %s: %s/%s is %v at its last step %d (diverged); left out", r.Dir, stage, metric, v, steps[len(steps)-1])
		return 0, false
	}
	return v, true
}
