package plots

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
)

// tinyResults is a hand-made experiment of two runs covering every record
// type, a NaN and a factor named like a fixed column.
func tinyResults() *Results {
	return &Results{Dir: "tiny", Experiment: "tiny", Runs: []*Run{
		{
			Dir: "arm=a/seed=1",
			Manifest: results.Manifest{Experiment: "tiny", Arm: "a", Seed: 1, Baseline: true, Status: results.StatusDone,
				Factors: map[string]any{"temperature": 0.4, "curriculum": "two-round"}},
			Metrics: []results.Metric{
				{Stage: "sft", Step: 0, Name: "loss", Value: 2.5},
				{Stage: "sft", Step: 10, Name: "loss", Value: math.NaN()},
			},
			Eval:     []results.EvalRow{{Method: "pit", Iteration: 1, Judge: "oracle", Temperature: 0.4, N: 4, Win: 0.5, Tie: 0.25, Lose: 0.25, Delta: 25}},
			Outcomes: []results.Outcome{{Method: "pit", Iteration: 1, Judge: "oracle", Temperature: 0.4, Prompt: 0, Result: -1}},
			Gaps:     []results.GapScore{{Pair: 0, WL: 1.5, WW: 0.25, LL: -0.125, LW: math.Inf(-1)}},
		},
		{
			Dir: "arm=b/seed=2",
			Manifest: results.Manifest{Experiment: "tiny", Arm: "b", Seed: 2, Status: results.StatusFailed,
				Factors: map[string]any{"curriculum": "round1-only"}}, // no temperature factor
			Metrics: []results.Metric{{Stage: "pit_rl", Step: 3, Name: "kl", Value: 1e-7}},
		},
	}}
}

func TestWriteCSVGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(context.Background(), &buf, tinyResults(), ExportOptions{Outcomes: true}); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden", "tiny.csv")
	if *update {
		if err := results.WriteFileAtomic(golden, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./plots -run CSV -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("CSV differs from %s:\n%s", golden, buf.String())
	}
}

func TestWriteCSVFixtures(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	var buf bytes.Buffer
	if err := WriteCSV(context.Background(), &buf, res, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll() // also checks every row has the header's width
	if err != nil {
		t.Fatal(err)
	}
	want := 1 // header
	for _, r := range res.Runs {
		want += len(r.Metrics) + 7*len(r.Eval) + 4*len(r.Gaps)
	}
	if len(rows) != want {
		t.Errorf("%d rows, want %d", len(rows), want)
	}
	header := rows[0]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, c := range []string{"experiment", "arm", "seed", "curriculum", "reward", "source", "stage", "step", "metric", "value"} {
		if _, ok := col[c]; !ok {
			t.Errorf("no column %q in %v", c, header)
		}
	}
	// Spot check: the rubric arm's factors are on its rows.
	found := false
	for _, r := range rows[1:] {
		if r[col["arm"]] == "rubric" && r[col["source"]] == "eval" {
			found = true
			if r[col["reward"]] != "rubric" || r[col["baseline"]] != "true" {
				t.Errorf("rubric row %v", r)
			}
			break
		}
	}
	if !found {
		t.Error("no eval row of the rubric arm")
	}
}

// TestTableFactorsGolden exports a grid whose algorithm axis takes table
// values (testdata/table-grid.toml, results as written before manifests
// recorded such factors by their label): the CSV and the summary write them
// compactly, never as Go maps (map[config:map[…] plugin:grpo]).
func TestTableFactorsGolden(t *testing.T) {
	d, err := ReadExperiment(filepath.Join("testdata", "table-grid.toml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Load(context.Background(), d.ResultsDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 8 {
		t.Fatalf("%d runs in the table-grid fixture, want 8", len(res.Runs))
	}
	for _, tc := range []struct {
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"table-grid.csv", func(b *bytes.Buffer) error { return WriteCSV(context.Background(), b, res, ExportOptions{}) }},
		{"table-grid-summary.csv", func(b *bytes.Buffer) error {
			return WriteSummaryCSV(context.Background(), b, res, SummaryOptions{Seed: 1, Resamples: 200})
		}},
	} {
		var buf bytes.Buffer
		if err := tc.write(&buf); err != nil {
			t.Fatal(err)
		}
		got := buf.String()
		if strings.Contains(got, "map[") || !strings.Contains(got, `"grpo(clip=0.2,group_size=4)"`) || !strings.Contains(got, ",rloo(),") {
			t.Errorf("%s: table factor not written compactly:\n%s", tc.golden, got)
		}
		checkGolden(t, tc.golden, buf.Bytes())
	}
}
