package pipeline

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/stats"
)

// PrintReport prints the eval results under an experiment's results
// directory: the eval table of a single run, or for a grid of several runs
// each arm's Δ per method, iteration and judge as the mean over seeds with
// a bootstrap 95% interval, and the paired comparisons of compareArms. pit
// run calls it when the grid is done (and then writes the per-arm summary
// CSV, plots.WriteSummaryCSV).
func PrintReport(w io.Writer, dir string) error {
	runs, err := doneRuns(dir)
	if err != nil {
		return err
	}
	switch {
	case len(runs) == 0:
		return nil
	case len(runs) == 1:
		if t, ok := readTable(runs[0].dir); ok {
			fmt.Fprintf(w, "\n== %s ==\n%s", runs[0].m.Run, t)
		}
		return nil
	}
	if err := printArms(w, runs); err != nil {
		return err
	}
	return compareArms(w, runs)
}

type doneRun struct {
	dir  string
	m    results.Manifest
	rows []results.EvalRow
}

// doneRuns finds the finished runs with an eval table under dir.
func doneRuns(dir string) ([]doneRun, error) {
	var runs []doneRun
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == runner.StagesDir) {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != results.ManifestFile {
			return nil
		}
		r := doneRun{dir: filepath.Dir(path)}
		if err := results.ReadJSON(path, &r.m); err != nil || r.m.Status != results.StatusDone {
			return nil
		}
		if r.rows, err = results.ReadJSONL[results.EvalRow](filepath.Join(r.dir, results.EvalFile)); err != nil || len(r.rows) == 0 {
			return nil
		}
		runs = append(runs, r)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].m.Run < runs[j].m.Run })
	return runs, nil
}

// printArms prints each arm's mean Δ over seeds with bootstrap intervals.
func printArms(w io.Writer, runs []doneRun) error {
	type cell struct {
		temp   float64
		method string
		iter   int
	}
	type armData struct {
		baseline bool
		seeds    int
		order    []cell
		delta    map[cell]map[string][]float64 // judge -> Δ per seed
		oracle   map[cell][]float64
	}
	arms := map[string]*armData{}
	var armOrder []string
	for _, r := range runs {
		a := arms[r.m.Arm]
		if a == nil {
			a = &armData{baseline: r.m.Baseline, delta: map[cell]map[string][]float64{}, oracle: map[cell][]float64{}}
			arms[r.m.Arm] = a
			armOrder = append(armOrder, r.m.Arm)
		}
		a.seeds++
		for _, row := range r.rows {
			c := cell{row.Temperature, row.Method, row.Iteration}
			if a.delta[c] == nil {
				a.delta[c] = map[string][]float64{}
				a.order = append(a.order, c)
			}
			a.delta[c][row.Judge] = append(a.delta[c][row.Judge], row.Delta)
			if row.Judge == JudgeOracle {
				a.oracle[c] = append(a.oracle[c], row.MeanOracle)
			}
		}
	}
	// The baseline arm first, the others in run order.
	sort.SliceStable(armOrder, func(i, j int) bool { return arms[armOrder[i]].baseline && !arms[armOrder[j]].baseline })
	boot := stats.Bootstrap{Seed: 1}
	ci := func(xs []float64) string {
		if len(xs) == 0 {
			return fmt.Sprintf("%-22s", "-")
		}
		if len(xs) == 1 {
			return fmt.Sprintf("%+6.1f%-16s", xs[0], "")
		}
		iv, err := boot.CI(xs, stats.Mean)
		if err != nil {
			return fmt.Sprintf("%-22s", "n/a")
		}
		return fmt.Sprintf("%+6.1f [%+6.1f,%+6.1f]", iv.Point, iv.Lo, iv.Hi)
	}
	fmt.Fprintf(w, "\nΔ = win%% − lose%% against y_0, mean over seeds [bootstrap 95%% CI]\n")
	for _, name := range armOrder {
		a := arms[name]
		label := name
		if a.baseline {
			label += " (baseline)"
		}
		fmt.Fprintf(w, "\n%s, %d seed(s)\n", label, a.seeds)
		fmt.Fprintf(w, "  %5s %-22s %4s %6s  %-22s  %-22s\n", "T", "method", "iter", "oracle", "Δ oracle judge", "Δ bt judge")
		for _, c := range a.order {
			if c.iter == 0 {
				fmt.Fprintf(w, "  %5g %-22s %4d %6.3f\n", c.temp, "y0", 0, stats.Mean(a.oracle[c]))
				continue
			}
			fmt.Fprintf(w, "  %5g %-22s %4d %6.3f  %s  %s\n", c.temp, c.method, c.iter, stats.Mean(a.oracle[c]), ci(a.delta[c][JudgeOracle]), ci(a.delta[c][JudgeBT]))
		}
	}
	return nil
}
