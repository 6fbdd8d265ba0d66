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
)

// FormatTable renders eval rows (one temperature block each) and the gap
// model's statistics as a plain-text table: per method and iteration the
// mean oracle, the copy rate and win / tie / lose / Δ under each judge.
func FormatTable(rows []results.EvalRow, gap map[string]float64) string {
	type key struct {
		method string
		iter   int
	}
	var b strings.Builder
	var temps []float64
	byT := map[float64][]results.EvalRow{}
	for _, r := range rows {
		if _, ok := byT[r.Temperature]; !ok {
			temps = append(temps, r.Temperature)
		}
		byT[r.Temperature] = append(byT[r.Temperature], r)
	}
	sort.Float64s(temps)
	for _, t := range temps {
		rs := byT[t]
		n := 0
		var order []key
		cells := map[key]map[string]results.EvalRow{}
		for _, r := range rs {
			k := key{r.Method, r.Iteration}
			if cells[k] == nil {
				cells[k] = map[string]results.EvalRow{}
				order = append(order, k)
			}
			cells[k][r.Judge] = r
			n = r.N
		}
		fmt.Fprintf(&b, "temperature %g, %d prompts; each row against y_0 ~ M_P^RL; Δ = win%% − lose%%\n", t, n)
		fmt.Fprintf(&b, "%-22s %4s %7s %6s | %-26s | %-26s\n", "method", "iter", "oracle", "copy", "oracle judge: win tie lose Δ", "bt judge: win tie lose Δ")
		for _, k := range order {
			c := cells[k]
			any := c[JudgeOracle]
			if any.Method == "" {
				any = c[JudgeBT]
			}
			copyRate := "-"
			if k.method != MethodInitial && k.method != MethodNull && k.method != MethodBestOfN {
				copyRate = fmt.Sprintf("%.2f", any.CopyRate)
			}
			fmt.Fprintf(&b, "%-22s %4d %7.3f %6s | %s | %s\n", k.method, k.iter, any.MeanOracle, copyRate, judgeCell(c, JudgeOracle, k.method), judgeCell(c, JudgeBT, k.method))
		}
		b.WriteString("\n")
	}
	if len(gap) > 0 {
		fmt.Fprintf(&b, "gap model on held-out pairs: wl>ww %.2f  wl>ll %.2f  wl>lw %.2f  ww>lw %.2f  ll>lw %.2f  all five %.2f  mean|g_ww−g_ll| %.3f\n",
			gap["order_wl>ww"], gap["order_wl>ll"], gap["order_wl>lw"], gap["order_ww>lw"], gap["order_ll>lw"], gap["order_all"], gap["mean_abs_ww_ll"])
	}
	return b.String()
}

func judgeCell(c map[string]results.EvalRow, judge, method string) string {
	r, ok := c[judge]
	if !ok {
		return fmt.Sprintf("%-26s", "-")
	}
	if method == MethodInitial {
		return fmt.Sprintf("%-26s", "(y_0)")
	}
	return fmt.Sprintf("%4.0f%% %4.0f%% %4.0f%% %+6.1f", 100*r.Win, 100*r.Tie, 100*r.Lose, r.Delta)
}

// PrintReport prints the eval table of every run under an experiment's
// results directory (the runs that have one), each under its run ID. pit
// run calls it when the grid is done.
func PrintReport(w io.Writer, dir string) error {
	var runs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".cache" || d.Name() == "stages") {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == results.ManifestFile {
			runs = append(runs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("report: %w", err)
	}
	sort.Strings(runs)
	for _, r := range runs {
		t, ok := readTable(r)
		if !ok {
			continue
		}
		rel, _ := filepath.Rel(dir, r)
		fmt.Fprintf(w, "\n== %s ==\n%s", filepath.ToSlash(rel), t)
	}
	return nil
}
