package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var plotFixtures = filepath.Join("..", "..", "plots", "testdata")

func TestPlotCommandDirectory(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	dir := filepath.Join(plotFixtures, "results", "fake-sweep")
	if code := realMain([]string{"plot", dir, "--out", out, "--format", "svg"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	paths := strings.Fields(stdout.String())
	if len(paths) != 6 {
		t.Fatalf("printed %d paths, want the 6 default figures: %q", len(paths), stdout.String())
	}
	for _, p := range paths {
		if filepath.Ext(p) != ".svg" || filepath.Dir(p) != out {
			t.Errorf("path %s: want an .svg in %s", p, out)
		}
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	if !strings.Contains(stderr.String(), "note: eval temperatures 0.4, 0.7, 1 present; plotting T=0.4 (set temperature to choose) [iterations-pit.svg, outcomes-pit.svg, ablation-pit.svg, sweep-kl_beta.svg]") {
		t.Errorf("notes not reported: %s", stderr.String())
	}
}

func TestPlotCommandExperimentFile(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	file := filepath.Join(plotFixtures, "experiment.toml")
	if code := realMain([]string{"plot", "--out", out, file}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := []string{
		filepath.Join(out, "fig", "delta.svg"),
		filepath.Join(out, "fig", "reward.pdf"),
		filepath.Join(out, "ablation-delta-mean_oracle-oracle.png"),
	}
	if got := strings.Fields(stdout.String()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("printed %q, want %q", got, want)
	}
	// The failed run is reported once, not fatal.
	if !strings.Contains(stderr.String(), "status failed: stage pit_rl: reward is NaN at step 36; left out [all figures]") || strings.Count(stderr.String(), "status failed") != 1 {
		t.Errorf("stderr %q does not report the failed run", stderr.String())
	}
}

func TestPlotCommandErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"plot", filepath.Join(plotFixtures, "bad-plot.toml")}, &stdout, &stderr); code != 1 {
		t.Errorf("bad experiment file: exit %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "unknown key") {
		t.Errorf("stderr %q", stderr.String())
	}
	stderr.Reset()
	if code := realMain([]string{"plot", filepath.Join(t.TempDir(), "missing")}, &stdout, &stderr); code != 1 {
		t.Errorf("missing directory: exit %d, want 1", code)
	}
	if code := realMain([]string{"plot", "--format"}, &stdout, &stderr); code != 2 {
		t.Errorf("flag without value: exit %d, want 2", code)
	}
}

func TestExportCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir := filepath.Join(plotFixtures, "results", "fake-sweep")
	if code := realMain([]string{"export", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// 16 runs × (7 kl values + 6 eval rows × 7 measures) + header.
	if len(rows) != 1+16*(7+6*7) {
		t.Errorf("%d rows", len(rows))
	}
	if !strings.HasPrefix(strings.Join(rows[0], ","), "experiment,run,arm,seed,baseline,status,curriculum,kl_beta,source") {
		t.Errorf("header %v", rows[0])
	}
	out := filepath.Join(t.TempDir(), "r.csv")
	stdout.Reset()
	if code := realMain([]string{"export", dir, "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 || strings.TrimSpace(stdout.String()) != out {
		t.Errorf("export -o: %v, printed %q", err, stdout.String())
	}
}

func TestExportSummaryCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir := filepath.Join(plotFixtures, "results", "fake-ablation")
	if code := realMain([]string{"export", "--summary", "--stat", "median", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 || !strings.Contains(strings.Join(rows[0], ","), "p_over_baseline") || rows[1][len(rows[0])-7] != "median" {
		t.Errorf("summary: %d rows, header %v, first %v", len(rows), rows[0], rows[1])
	}
}

// TestExportSkipsFailedRuns: a run that failed is left out (and counted)
// unless --include-failed asks for it.
func TestExportSkipsFailedRuns(t *testing.T) {
	dir := filepath.Join(plotFixtures, "results", "fake-ablation") // round1-only seed 3 failed
	runsIn := func(args ...string) (map[string]bool, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := realMain(append([]string{"export", dir}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		rows, err := csv.NewReader(&stdout).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		statuses := map[string]bool{}
		for _, r := range rows[1:] {
			statuses[r[5]] = true
		}
		return statuses, stderr.String()
	}
	st, msg := runsIn()
	if st["failed"] || !strings.Contains(msg, "left out 1 run(s)") {
		t.Errorf("default export: statuses %v, stderr %q", st, msg)
	}
	if st, _ := runsIn("--include-failed"); !st["failed"] {
		t.Errorf("--include-failed: statuses %v, want the failed run", st)
	}
}

// TestExportTableGrid: pit export of a grid with table-valued axes
// (plots/testdata/table-grid.toml, which has one failed run) writes the
// factor compactly, leaves the failed run out and says so; --include-failed
// keeps it; --summary counts finished runs only.
func TestExportTableGrid(t *testing.T) {
	exp := filepath.Join(plotFixtures, "table-grid.toml")
	for _, tc := range []struct {
		args       []string
		wantFailed bool
		wantNote   string
	}{
		{[]string{"export", exp}, false, "pit export: left out 1 run(s) that did not finish (--include-failed exports them)\n"},
		{[]string{"export", "--include-failed", exp}, true, ""},
		{[]string{"export", "--summary", exp}, false, "pit export: left out 1 run(s) that did not finish (--include-failed exports them)\n"},
	} {
		var stdout, stderr bytes.Buffer
		if code := realMain(tc.args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr.String())
		}
		if stderr.String() != tc.wantNote {
			t.Errorf("%v: stderr %q, want %q", tc.args, stderr.String(), tc.wantNote)
		}
		out := stdout.String()
		if got := strings.Contains(out, ",failed,"); got != tc.wantFailed {
			t.Errorf("%v: rows of the failed run: %v, want %v", tc.args, got, tc.wantFailed)
		}
		if strings.Contains(out, "map[") || !strings.Contains(out, `"grpo(clip=0.2,group_size=4)"`) {
			t.Errorf("%v: table factor not written compactly:\n%s", tc.args, out)
		}
	}
}
