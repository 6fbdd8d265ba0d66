package plots

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"strconv"
	"testing"

	"github.com/pit-lab/pit/core/results"
)

func TestWriteSummaryCSV(t *testing.T) {
	var runs []*Run
	finals := map[string][]float64{"a": {1, 2, 3, math.NaN()}, "b": {2, 3, 4}}
	for _, arm := range []string{"a", "b"} {
		for i, v := range finals[arm] {
			runs = append(runs, &Run{Dir: arm + "/" + strconv.Itoa(i), Manifest: results.Manifest{
				Experiment: "s", Arm: arm, Seed: int64(i), Baseline: arm == "a", Status: results.StatusDone,
				Factors: map[string]any{"arm_kind": arm}},
				Metrics: []results.Metric{
					{Stage: "rm", Step: 0, Name: "acc", Value: 100}, // not final: ignored
					{Stage: "rm", Step: 10 + i, Name: "acc", Value: v},
				},
				Eval: []results.EvalRow{{Method: "pit", Iteration: 1, Judge: "oracle", Temperature: 0.4, Win: 0.5, Tie: 0.25, Lose: 0.25}},
			})
		}
	}
	var buf bytes.Buffer
	if err := WriteSummaryCSV(context.Background(), &buf, &Results{Experiment: "s", Runs: runs}, SummaryOptions{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := func(arm, metric string) []string {
		for _, r := range rows[1:] {
			if r[col["arm"]] == arm && r[col["metric"]] == metric {
				return r
			}
		}
		t.Fatalf("no row %s %s in\n%s", arm, metric, rows)
		return nil
	}
	// Arm a: the NaN seed is left out: mean(1,2,3) = 2 over n=3.
	a, b := get("a", "acc"), get("b", "acc")
	if a[col["n"]] != "3" || a[col["value"]] != "2" || a[col["p_over_baseline"]] != "" || a[col["step"]] != "12" {
		t.Errorf("baseline row %v", a)
	}
	// P(b > a) by hand: b=2 beats 1, ties 2 (1.5); b=3 beats 1,2, ties 3
	// (2.5); b=4 beats all (3): 7/9.
	if b[col["value"]] != "3" || b[col["p_over_baseline"]] != strconv.FormatFloat(7.0/9, 'g', -1, 64) {
		t.Errorf("row b %v", b)
	}
	lo, _ := strconv.ParseFloat(b[col["ci_lo"]], 64)
	hi, _ := strconv.ParseFloat(b[col["ci_hi"]], 64)
	if !(lo >= 2 && lo <= 3 && hi >= 3 && hi <= 4) {
		t.Errorf("CI [%v, %v] of mean(2,3,4)", lo, hi)
	}
	// Eval measures are in percent: Δ = 100·(0.5 − 0.25) = 25 in every run.
	d := get("b", "delta")
	if d[col["value"]] != "25" || d[col["ci_lo"]] != "25" || d[col["temperature"]] != "0.4" || d[col["p_over_baseline"]] != "0.5" {
		t.Errorf("delta row %v", d)
	}
	if _, ok := col["arm_kind"]; !ok {
		t.Errorf("no factor column in %v", rows[0])
	}
}

func TestWriteSummaryFixture(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummaryCSV(context.Background(), &buf, loadFixture(t, "fake-ablation"), SummaryOptions{Stat: "iqm", Resamples: 200}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// 4 arms × (5 metrics + 2 judges × (3 pit + 1 null) cells × 6 measures).
	if want := 1 + 4*(5+2*4*6); len(rows) != want {
		t.Errorf("%d rows, want %d", len(rows), want)
	}
	if err := WriteSummaryCSV(context.Background(), &buf, loadFixture(t, "fake-ablation"), SummaryOptions{Stat: "mode"}); err == nil {
		t.Error("unknown statistic accepted")
	}
}
