package plots

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/stats"
)

// SummaryOptions set the statistics of WriteSummaryCSV.
type SummaryOptions struct {
	Stat      string // mean, median or iqm over seeds; default mean
	Level     float64
	Resamples int
	Seed      uint64
}

// summaryKey identifies one summarised quantity.
type summaryKey struct {
	source, stage, method, judge string
	temp                         float64
	step                         int
	metric                       string
}

// WriteSummaryCSV writes one row per arm and quantity: the final value of
// every metrics.jsonl metric, and every eval measure (delta, win, tie, lose
// in percent; mean_oracle, copy_rate) per method, judge, temperature and
// iteration. Each row gives the number of seeds, the statistic over seeds
// with its percentile bootstrap interval, and the probability that a seed of
// the arm beats (is higher than) a seed of the baseline arm, with its
// interval; "higher" is not always better (a loss), read it accordingly.
// Only finished runs with finite values count. For a metric the step column
// is the latest final step of any run.
func WriteSummaryCSV(ctx context.Context, w io.Writer, res *Results, opt SummaryOptions) error {
	stat, err := stats.ByName(opt.Stat)
	if err != nil {
		return fmt.Errorf("plots: summary: %w", err)
	}
	statName := opt.Stat
	if statName == "" {
		statName = "mean"
	}
	b := stats.Bootstrap{Resamples: opt.Resamples, Level: opt.Level, Seed: opt.Seed}
	groups, err := groupRuns(doneRuns(res), "", "", res.Factors())
	if err != nil {
		return err
	}
	var baseline *group
	for _, g := range groups {
		if g.baseline {
			baseline = g
			break
		}
	}
	// values[key][group index] = one value per run.
	values := map[summaryKey][][]float64{}
	lastStep := map[summaryKey]int{}
	add := func(k summaryKey, gi int, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if values[k] == nil {
			values[k] = make([][]float64, len(groups))
		}
		values[k][gi] = append(values[k][gi], v)
	}
	for gi, g := range groups {
		for _, r := range g.runs {
			last := map[[2]string]results.Metric{}
			for _, m := range r.Metrics {
				k := [2]string{m.Stage, m.Name}
				if prev, ok := last[k]; !ok || m.Step >= prev.Step {
					last[k] = m
				}
			}
			for _, m := range last {
				// The key leaves the step out: runs may stop at different steps.
				k := summaryKey{source: "metrics", stage: m.Stage, metric: m.Name}
				if stats.Finite([]float64{m.Value}) {
					lastStep[k] = max(lastStep[k], m.Step)
				}
				add(k, gi, m.Value)
			}
			for _, e := range r.Eval {
				for _, name := range evalMeasures {
					add(summaryKey{"eval", "eval", e.Method, e.Judge, e.Temperature, e.Iteration, name}, gi, measure(e, name))
				}
			}
		}
	}
	keys := make([]summaryKey, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b summaryKey) int {
		return cmp.Or(cmp.Compare(a.source, b.source), cmp.Compare(a.stage, b.stage), cmp.Compare(a.method, b.method),
			cmp.Compare(a.judge, b.judge), cmp.Compare(a.temp, b.temp), cmp.Compare(a.metric, b.metric), cmp.Compare(a.step, b.step))
	})
	factors := res.Factors()
	header := []string{"experiment", "arm", "baseline"}
	for _, f := range factors {
		if slices.Contains(fixedColumns, f) || slices.Contains(recordColumns, f) || slices.Contains(summaryColumns, f) {
			f = "factor_" + f
		}
		header = append(header, f)
	}
	header = append(header, summaryColumns...)
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("plots: summary: %w", err)
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		vals := values[k]
		for gi, g := range groups {
			v := vals[gi]
			if len(v) == 0 {
				continue
			}
			rec := []string{res.Experiment, g.label, strconv.FormatBool(g.baseline)}
			for _, f := range factors {
				rec = append(rec, formatValue(g.runs[0].Manifest.Factors[f]))
			}
			temp := ""
			if k.source == "eval" {
				temp = formatCell(k.temp)
			}
			step := k.step
			if k.source == "metrics" {
				step = lastStep[k]
			}
			rec = append(rec, k.source, k.stage, k.method, k.judge, temp, strconv.Itoa(step), k.metric, strconv.Itoa(len(v)), statName)
			point := stat(slices.Clone(v))
			lo, hi := "", ""
			if len(v) > 1 {
				iv, err := b.CI(v, stat)
				if err != nil {
					return fmt.Errorf("plots: summary %s %s: %w", g.label, k.metric, err)
				}
				lo, hi = formatCell(iv.Lo), formatCell(iv.Hi)
			}
			rec = append(rec, formatCell(point), lo, hi)
			pi, plo, phi := "", "", ""
			if bi := slices.Index(groups, baseline); bi >= 0 && g != baseline && len(vals[bi]) > 0 {
				iv, err := b.ProbImprovement(v, vals[bi])
				if err != nil {
					return fmt.Errorf("plots: summary %s %s: %w", g.label, k.metric, err)
				}
				pi, plo, phi = formatCell(iv.Point), formatCell(iv.Lo), formatCell(iv.Hi)
			}
			rec = append(rec, pi, plo, phi)
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("plots: summary: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("plots: summary: %w", err)
	}
	return nil
}

var summaryColumns = []string{"source", "stage", "method", "judge", "temperature", "step", "metric", "n", "stat", "value", "ci_lo", "ci_hi", "p_over_baseline", "p_lo", "p_hi"}

func doneRuns(res *Results) []*Run {
	var out []*Run
	for _, r := range res.Runs {
		if st := r.Manifest.Status; st == "" || st == results.StatusDone {
			out = append(out, r)
		}
	}
	return out
}
