package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pit-lab/pit/core/results"
)

// tableLegend explains the eval table's rows and columns, one line each; it
// is printed under every table.
var tableLegend = []string{
	"rows:   y0 = y_0 ~ M_P^RL, the answer to improve; pit (iteration i) = y_i = M_PIT(x, y_{i-1}) (rubric / pit-<reward>: an improver trained with that reward);",
	"        null = a second, independent sample of M_P^RL judged against y_0 (what resampling alone gives);",
	"        best-of-n = the best of y_0 and n-1 more samples of M_P^RL by the BT reward model; oracle-best-of-n = the same picked by the oracle (the headroom a perfect selector has)",
	"columns: oracle = mean oracle quality q(x, y) in [0, 1] (stated constraints and hidden preferences); copy = share of y_i identical to y_{i-1};",
	"        oracle judge = the task's ground truth compares the row's answer with y_0 (a tie within epsilon); bt judge = the learned Bradley-Terry reward model r_P does;",
	"        Δ = win% − lose% against y_0; vs null = Δ(row) − Δ(null), paired on the same y_0 and prompts; [lo, hi] = 95% bootstrap interval over prompts (a prompt's draws together)",
}

// FormatTable renders eval rows (one temperature block each) and the gap
// model's statistics as a plain-text table: per method and iteration the
// mean oracle, the copy rate, and under each judge win / tie / lose, Δ with
// its interval and the paired difference against the null; then a legend
// of the rows and columns.
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
		var size string
		var order []key
		cells := map[key]map[string]results.EvalRow{}
		for _, r := range rs {
			k := key{r.Method, r.Iteration}
			if cells[k] == nil {
				cells[k] = map[string]results.EvalRow{}
				order = append(order, k)
			}
			cells[k][r.Judge] = r
			size = fmt.Sprintf("%d prompts", r.N)
			if r.Draws > 1 {
				size = fmt.Sprintf("%d prompts × %d draws = %d judgements per row", r.Prompts, r.Draws, r.N)
			}
		}
		fmt.Fprintf(&b, "temperature %g, %s; each row against y_0 ~ M_P^RL; Δ = win%% − lose%%\n", t, size)
		fmt.Fprintf(&b, "%-18s %4s %6s %5s | %-51s | %-37s\n", "method", "iter", "oracle", "copy",
			"oracle judge: win  tie lose       Δ [95% CI]      vs null", "bt judge:      Δ [95% CI]      vs null")
		for _, k := range order {
			c := cells[k]
			any := c[JudgeOracle]
			if any.Method == "" {
				any = c[JudgeBT]
			}
			copyRate := "-"
			name := k.method
			if k.iter == 0 {
				name = "y0"
			}
			if k.iter != 0 && k.method != MethodNull && k.method != MethodBestOfN && !strings.HasPrefix(k.method, MethodOracleBestOf) {
				copyRate = fmt.Sprintf("%.2f", any.CopyRate)
			}
			fmt.Fprintf(&b, "%-18s %4d %6.3f %5s | %s | %s\n", name, k.iter, any.MeanOracle, copyRate,
				judgeCell(c, JudgeOracle, k.iter, true), judgeCell(c, JudgeBT, k.iter, false))
		}
		b.WriteString("\n")
	}
	if len(gap) > 0 {
		fmt.Fprintf(&b, "gap model on held-out pairs: wl>ww %.2f  wl>ll %.2f  wl>lw %.2f  ww>lw %.2f  ll>lw %.2f  all five %.2f  mean|g_ww−g_ll| %.3f\n",
			gap["order_wl>ww"], gap["order_wl>ll"], gap["order_wl>lw"], gap["order_ww>lw"], gap["order_ll>lw"], gap["order_all"], gap["mean_abs_ww_ll"])
	}
	if len(rows) > 0 {
		b.WriteString(strings.Join(tableLegend, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

// judgeCell is one judge's part of a table line; withTally adds win, tie
// and lose.
func judgeCell(c map[string]results.EvalRow, judge string, iter int, withTally bool) string {
	width := 37
	if withTally {
		width = 51
	}
	r, ok := c[judge]
	if !ok {
		return fmt.Sprintf("%-*s", width, "-")
	}
	if iter == 0 {
		return fmt.Sprintf("%-*s", width, "(y_0)")
	}
	var s string
	if withTally {
		s = fmt.Sprintf("%3.0f%% %3.0f%% %3.0f%% ", 100*r.Win, 100*r.Tie, 100*r.Lose)
	}
	s += ciCell(r.Delta, r.DeltaCI) + " " + vsNullCell(r)
	return fmt.Sprintf("%-*s", width, s)
}

func ciCell(point float64, ci *results.CI) string {
	if ci == nil {
		return fmt.Sprintf("%+6.1f %-15s", point, "")
	}
	return fmt.Sprintf("%+6.1f [%+5.1f,%+5.1f]", point, ci.Lo, ci.Hi)
}

func vsNullCell(r results.EvalRow) string {
	if r.VsNull == nil {
		return fmt.Sprintf("%-22s", "")
	}
	return fmt.Sprintf("%+6.1f [%+5.1f,%+5.1f]", r.VsNull.Point, r.VsNull.Lo, r.VsNull.Hi)
}
