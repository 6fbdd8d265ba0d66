package plots

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pit-lab/pit/core/results"
)

// Run is one run directory of an experiment, read whole.
type Run struct {
	Dir      string // path relative to the experiment directory, slash-separated
	Manifest results.Manifest
	Metrics  []results.Metric
	Eval     []results.EvalRow
	Outcomes []results.Outcome
	Gaps     []results.GapScore
}

// Label returns the run's arm label: the manifest's Arm, or its factors
// written as k=v pairs when the arm has no label.
func (r *Run) Label() string {
	if r.Manifest.Arm != "" {
		return r.Manifest.Arm
	}
	if len(r.Manifest.Factors) == 0 {
		return r.Dir
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Manifest.Factors)) {
		parts = append(parts, k+"="+formatValue(r.Manifest.Factors[k]))
	}
	return strings.Join(parts, ", ")
}

// Results is every run of one experiment.
type Results struct {
	Dir        string // the experiment directory that was read
	Experiment string
	Runs       []*Run // sorted by arm label, seed, directory
}

// Load reads every run under dir, the results directory of one experiment
// (<out>/<experiment>). Runs are found by their manifest.json at any depth;
// directories whose names start with "." (such as the stage cache .cache)
// are skipped. It is an error if dir holds no run or runs of several
// experiments.
func Load(ctx context.Context, dir string) (*Results, error) {
	var manifests []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() && path != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == results.ManifestFile {
			manifests = append(manifests, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("plots: read results %s: %w", dir, err)
	}
	if len(manifests) == 0 {
		return nil, fmt.Errorf("plots: no runs under %s (no %s found)", dir, results.ManifestFile)
	}
	res := &Results{Dir: dir}
	exps := map[string]bool{}
	for _, m := range manifests {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		run, err := loadRun(dir, filepath.Dir(m))
		if err != nil {
			return nil, err
		}
		exps[run.Manifest.Experiment] = true
		res.Runs = append(res.Runs, run)
	}
	if len(exps) > 1 {
		return nil, fmt.Errorf("plots: %s holds runs of several experiments (%s); point at one experiment's directory",
			dir, strings.Join(slices.Sorted(maps.Keys(exps)), ", "))
	}
	res.Experiment = res.Runs[0].Manifest.Experiment
	sort.SliceStable(res.Runs, func(i, j int) bool {
		a, b := res.Runs[i], res.Runs[j]
		if a.Label() != b.Label() {
			return a.Label() < b.Label()
		}
		if a.Manifest.Seed != b.Manifest.Seed {
			return a.Manifest.Seed < b.Manifest.Seed
		}
		return a.Dir < b.Dir
	})
	return res, nil
}

func loadRun(root, dir string) (*Run, error) {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		rel = dir
	}
	run := &Run{Dir: filepath.ToSlash(rel)}
	if err := results.ReadJSON(filepath.Join(dir, results.ManifestFile), &run.Manifest); err != nil {
		return nil, fmt.Errorf("plots: run %s: %w", run.Dir, err)
	}
	if run.Metrics, err = results.ReadJSONL[results.Metric](filepath.Join(dir, results.MetricsFile)); err != nil {
		return nil, fmt.Errorf("plots: run %s: %w", run.Dir, err)
	}
	if run.Eval, err = results.ReadJSONL[results.EvalRow](filepath.Join(dir, results.EvalFile)); err != nil {
		return nil, fmt.Errorf("plots: run %s: %w", run.Dir, err)
	}
	if run.Outcomes, err = results.ReadJSONL[results.Outcome](filepath.Join(dir, results.OutcomesFile)); err != nil {
		return nil, fmt.Errorf("plots: run %s: %w", run.Dir, err)
	}
	if run.Gaps, err = results.ReadJSONL[results.GapScore](filepath.Join(dir, results.GapsFile)); err != nil {
		return nil, fmt.Errorf("plots: run %s: %w", run.Dir, err)
	}
	return run, nil
}

// Factors returns the names of the factors of all runs, sorted.
func (r *Results) Factors() []string {
	set := map[string]bool{}
	for _, run := range r.Runs {
		for k := range run.Manifest.Factors {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// formatValue writes a factor value the way it appears in labels, CSV cells
// and filters: numbers in shortest form; a table as plugin(k=v,…) when it
// names a plugin, else {k=v,…}; an array as [a,b,…] (manifests since
// table-valued factors are recorded by label hold none of these, older ones
// may).
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if k == "plugin" {
				continue
			}
			if cfg, ok := x[k].(map[string]any); ok && k == "config" {
				for _, ck := range slices.Sorted(maps.Keys(cfg)) {
					parts = append(parts, ck+"="+formatValue(cfg[ck]))
				}
				continue
			}
			parts = append(parts, k+"="+formatValue(x[k]))
		}
		if p, ok := x["plugin"].(string); ok {
			return p + "(" + strings.Join(parts, ",") + ")"
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprint(v)
}

// numericValue returns a factor value as a number, if it is one.
func numericValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

var errNoData = errors.New("no data")
