package pipeline

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/stats"
)

// runDirs finds the run directories under an experiment's results.
func runDirs(t *testing.T, expDir string) []string {
	t.Helper()
	var dirs []string
	filepath.WalkDir(expDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".cache" || d.Name() == "stages") {
			return filepath.SkipDir
		}
		if d.Name() == results.ManifestFile {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	return dirs
}

// series returns a stage's metric by step order.
func series(ms []results.Metric, stage, name string) []float64 {
	var out []float64
	for _, m := range ms {
		if m.Stage == stage && m.Name == name {
			out = append(out, m.Value)
		}
	}
	return out
}

// checkLearning asserts that the pipeline learned: SFT losses fall, both
// reward models rank held-out pairs above chance, RL raises the reward over
// its first steps, and the eval table is complete.
func checkLearning(t *testing.T, expDir string) {
	t.Helper()
	dirs := runDirs(t, expDir)
	if len(dirs) != 1 {
		t.Fatalf("want 1 run under %s, found %v", expDir, dirs)
	}
	run := dirs[0]
	ms, err := results.ReadJSONL[results.Metric](filepath.Join(run, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	// sft starts from scratch and must fall a lot; pit_sft starts from the
	// sft policy (init_from's default), so its loss starts well below where
	// sft started, and must still fall.
	var sftFirst float64
	for _, st := range []string{"sft", "pit_sft"} {
		loss := series(ms, st, "loss")
		if len(loss) < 20 {
			t.Fatalf("%s: %d loss values", st, len(loss))
		}
		first, last := stats.Mean(loss[:10]), stats.Mean(loss[len(loss)-10:])
		t.Logf("%s loss %.3f → %.3f", st, first, last)
		switch st {
		case "sft":
			sftFirst = first
			if !(last < 0.8*first) {
				t.Errorf("%s: loss did not fall: first 10 steps %.3f, last 10 %.3f", st, first, last)
			}
		case "pit_sft":
			if !(last < first) || !(first < 0.85*sftFirst) {
				t.Errorf("%s: loss did not fall, or did not start from a trained model: first 10 steps %.3f, last 10 %.3f (sft started at %.3f)", st, first, last, sftFirst)
			}
		}
	}
	// Both reward models rank held-out pairs above chance. Labels are
	// noisy (τ > 0), so the bar is the oracle's order, not the label's.
	for _, st := range []string{"rm", "pit_rm"} {
		acc := series(ms, st, "heldout_oracle_accuracy")
		if len(acc) == 0 {
			t.Fatalf("%s: no held-out accuracy", st)
		}
		a := acc[len(acc)-1]
		t.Logf("%s held-out oracle accuracy %.3f", st, a)
		if !(a > 0.6) {
			t.Errorf("%s: held-out oracle accuracy %.3f, want > 0.6", st, a)
		}
	}
	// RL raises the mean reward over its first steps.
	for _, st := range []string{"rlhf"} {
		r := series(ms, st, "reward")
		if len(r) < 8 {
			t.Fatalf("%s: %d reward values", st, len(r))
		}
		first, last := stats.Mean(r[:3]), stats.Mean(r[len(r)-3:])
		t.Logf("%s reward %.3f → %.3f", st, first, last)
		if !(last > first) {
			t.Errorf("%s: mean reward did not rise: first 3 steps %.3f, last 3 %.3f", st, first, last)
		}
	}
	// The reward plugins' components are logged per step: bradley-terry's
	// "r" in rlhf, pit-gap's "gap" in pit_rl.
	for _, c := range [][2]string{{"rlhf", "reward/r"}, {"rlhf", "reward/r_std"}, {"pit_rl", "reward/gap"}} {
		if v := series(ms, c[0], c[1]); len(v) == 0 {
			t.Errorf("%s logs no %s (the reward plugin's component)", c[0], c[1])
		}
	}
	// pit_rl measures its reward on policy pairs before and after RL; the
	// gap model, trained on data pairs, orders them better than a coin.
	var ppSteps []int
	for _, m := range ms {
		if m.Stage == "pit_rl" && m.Name == "policy_pairs/corr_oracle" {
			ppSteps = append(ppSteps, m.Step)
		}
	}
	if len(ppSteps) != 2 || ppSteps[0] != 0 {
		t.Errorf("pit_rl policy_pairs/corr_oracle at steps %v, want step 0 and the last", ppSteps)
	}
	if acc := series(ms, "pit_rl", "policy_pairs/accuracy"); len(acc) == 0 || !(acc[0] > 0.5) {
		t.Errorf("pit_rl policy_pairs/accuracy %v, want above 0.5 before RL", acc)
	}
	rows, err := results.ReadJSONL[results.EvalRow](filepath.Join(run, results.EvalFile))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[r.Method+"/"+r.Judge+"/"+itoa(r.Iteration)] = true
		if s := r.Win + r.Tie + r.Lose; s < 0.999 || s > 1.001 {
			t.Errorf("row %+v: win+tie+lose = %v", r, s)
		}
		if r.Iteration > 0 && (r.DeltaCI == nil || !(r.DeltaCI.Lo <= r.Delta && r.Delta <= r.DeltaCI.Hi)) {
			t.Errorf("row %s/%s/%d: Δ %.1f outside its interval %+v", r.Method, r.Judge, r.Iteration, r.Delta, r.DeltaCI)
		}
		if r.Method == MethodPIT && r.Iteration > 0 && r.VsNull == nil {
			t.Errorf("row %s/%s/%d: no paired difference against the null", r.Method, r.Judge, r.Iteration)
		}
	}
	for _, judge := range []string{JudgeOracle, JudgeBT} {
		for _, want := range []string{"pit/" + judge + "/1", "pit/" + judge + "/2", "null/" + judge + "/1", "best-of-n/" + judge + "/1", "pit/" + judge + "/0", "oracle-best-of-4/" + judge + "/1"} {
			if !have[want] {
				t.Errorf("eval table has no row %s (rows: %v)", want, have)
			}
		}
	}
	gaps, err := results.ReadJSONL[results.GapScore](filepath.Join(run, results.GapsFile))
	if err != nil || len(gaps) == 0 {
		t.Errorf("gaps.jsonl: %d rows, %v", len(gaps), err)
	}
	outs, err := results.ReadJSONL[results.Outcome](filepath.Join(run, results.OutcomesFile))
	if err != nil || len(outs) == 0 {
		t.Errorf("outcomes.jsonl: %d rows, %v", len(outs), err)
	}
	table, err := os.ReadFile(filepath.Join(run, TableFile))
	if err != nil || !strings.Contains(string(table), "best-of-n") {
		t.Errorf("eval table: %v\n%s", err, table)
	}
	t.Logf("eval table:\n%s", table)
}

func itoa(i int) string { return strconv.Itoa(i) }
