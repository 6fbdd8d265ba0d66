package plots

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// ExportOptions choose what WriteCSV writes.
type ExportOptions struct {
	Outcomes bool // also write one row per judged prompt (outcomes.jsonl), which can be large
}

// fixedColumns come first in the CSV; factor columns follow, then
// recordColumns.
var (
	fixedColumns  = []string{"experiment", "run", "arm", "seed", "baseline", "status"}
	recordColumns = []string{"source", "stage", "method", "judge", "temperature", "step", "prompt", "metric", "value"}
)

// WriteCSV writes res as one tidy table that pandas (pd.read_csv) and
// rliable read directly: one row per run × record × measure, with the run's
// factor values as columns. The source column says where a row comes from:
//
//	metrics   stage, step, metric, value: one logged scalar of metrics.jsonl
//	eval      method, judge, temperature, step = iteration, metric ∈ {n,
//	          win, tie, lose, delta, mean_oracle, copy_rate} as stored in
//	          eval.jsonl (win, tie and lose are fractions)
//	gaps      step = held-out pair, metric ∈ {g_wl, g_ww, g_ll, g_lw}
//	outcomes  (with opt.Outcomes) method, judge, temperature, step =
//	          iteration, prompt, metric = result, value +1, 0 or −1
//
// Cells that do not apply are empty; NaN and ±Inf are written as NaN, inf
// and -inf. A factor named like a fixed column gets the prefix "factor_".
// Rows follow the run order of res and the file order within a run, so the
// output is deterministic.
func WriteCSV(ctx context.Context, w io.Writer, res *Results, opt ExportOptions) error {
	factors := res.Factors()
	header := slices.Clone(fixedColumns)
	for _, f := range factors {
		if slices.Contains(fixedColumns, f) || slices.Contains(recordColumns, f) {
			f = "factor_" + f
		}
		header = append(header, f)
	}
	header = append(header, recordColumns...)
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("plots: export: %w", err)
	}
	for _, r := range res.Runs {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := r.Manifest
		prefix := []string{m.Experiment, r.Dir, r.Label(), strconv.FormatInt(m.Seed, 10), strconv.FormatBool(m.Baseline), string(m.Status)}
		for _, f := range factors {
			v, ok := m.Factors[f]
			if !ok {
				prefix = append(prefix, "")
				continue
			}
			prefix = append(prefix, formatValue(v))
		}
		row := func(source, stage, method, judge, temp, step, prompt, metric string, value float64) error {
			rec := append(slices.Clone(prefix), source, stage, method, judge, temp, step, prompt, metric, formatCell(value))
			return cw.Write(rec)
		}
		for _, mt := range r.Metrics {
			if err := row("metrics", mt.Stage, "", "", "", strconv.Itoa(mt.Step), "", mt.Name, mt.Value); err != nil {
				return fmt.Errorf("plots: export: %w", err)
			}
		}
		for _, e := range r.Eval {
			temp, it := formatCell(e.Temperature), strconv.Itoa(e.Iteration)
			for _, c := range []struct {
				name string
				v    float64
			}{{"n", float64(e.N)}, {"win", e.Win}, {"tie", e.Tie}, {"lose", e.Lose}, {"delta", e.Delta}, {"mean_oracle", e.MeanOracle}, {"copy_rate", e.CopyRate}} {
				if err := row("eval", "eval", e.Method, e.Judge, temp, it, "", c.name, c.v); err != nil {
					return fmt.Errorf("plots: export: %w", err)
				}
			}
		}
		for _, g := range r.Gaps {
			for _, s := range gapSeries {
				if err := row("gaps", "", "", "", "", strconv.Itoa(g.Pair), "", s.name, s.get(g)); err != nil {
					return fmt.Errorf("plots: export: %w", err)
				}
			}
		}
		if opt.Outcomes {
			for _, o := range r.Outcomes {
				if err := row("outcomes", "eval", o.Method, o.Judge, formatCell(o.Temperature), strconv.Itoa(o.Iteration), strconv.Itoa(o.Prompt), "result", float64(o.Result)); err != nil {
					return fmt.Errorf("plots: export: %w", err)
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("plots: export: %w", err)
	}
	return nil
}

func formatCell(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
