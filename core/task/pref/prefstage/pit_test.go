package prefstage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

const pitFile = `name = "pref-pit"
seeds = [1]
[task]
kind = "preference"
format = "jsonl"
max_prompt_bytes = 8
max_response_bytes = 12
[task.train]
path = %q
[task.eval]
path = %q
[model]
d_model = 32
layers = 2
heads = 4
[stages.pref_data]
[stages.pref_sft]
steps = 150
lr = 3e-3
warmup_steps = 10
[stages.pref_pit_sft]
steps = 150
lr = 3e-3
warmup_steps = 10
[stages.pref_rm]
steps = 150
lr = 3e-3
warmup_steps = 10
reward = "pit-gap"
[stages.pref_judge]
kind = "pref_rm"
train_split = "eval"
steps = 150
lr = 3e-3
warmup_steps = 10
reward = "bradley-terry"
[stages.pref_pit_rl]
steps = 30
prompts_per_step = 8
lr = 1e-3
temperature = 1.0
reward = "pit-gap"
algorithm = { plugin = "rloo", config = { k = 4 } }
[stages.pref_eval]
prompts = 60
draws = 2
resamples = 500
`

// The PIT pipeline on preference data, end to end with small random
// models: both SFT stages lower their held-out loss, the judge trained on
// the other split ranks held-out pairs above chance, RL raises the gap
// reward it optimises over its SFT start on held-out prompts, and
// pref_eval reports both improvers under both judges.
func TestPITOnPreferenceData(t *testing.T) {
	if testing.Short() {
		t.Skip("trains six small models; skipped with -short")
	}
	dir := t.TempDir()
	train, eval := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "eval.jsonl")
	writePairs(t, train, 300, 1, false)
	writePairs(t, eval, 200, 2, false)
	file := filepath.Join(dir, "exp.toml")
	if err := os.WriteFile(file, fmt.Appendf(nil, pitFile, train, eval), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, plan := planPretrained(t, file)
	out := filepath.Join(dir, "results", exp.Name)
	sum, err := runner.Execute(context.Background(), plan, runner.Options{Dir: out, Plugins: inProcessHost{}, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed > 0 {
		for _, f := range findFiles(t, out, "manifest.json") {
			b, _ := os.ReadFile(f)
			t.Log(string(b))
		}
		t.Fatalf("summary %+v", sum)
	}
	for stage, file := range map[string]string{"pref_sft": SFTFile, "pref_pit_sft": PITSFTFile} {
		var rep SFTReport
		if err := results.ReadJSON(filepath.Join(out, "seed=1", file), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Improver != (stage == "pref_pit_sft") {
			t.Errorf("%s: improver %v", stage, rep.Improver)
		}
		t.Logf("%s: held-out loss %.3f -> %.3f", stage, rep.HeldOutLossBefore, rep.HeldOutLoss)
		if !(rep.HeldOutLoss < 0.8*rep.HeldOutLossBefore) {
			t.Errorf("%s: held-out loss %.3f -> %.3f, want a clear fall", stage, rep.HeldOutLossBefore, rep.HeldOutLoss)
		}
	}
	var rep EvalReport
	if err := results.ReadJSON(filepath.Join(out, "seed=1", EvalFile), &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("eval: %+v", rep)
	if rep.Prompts != 60 || rep.Draws != 2 || len(rep.Improvers) != 2 || len(rep.Judges) != 2 {
		t.Fatalf("report shape %+v", rep)
	}
	if j := rep.Judges["judge"]; j.ReferenceConditioned || j.HeldOutAccuracy.Lo < 0.6 {
		t.Errorf("the held-out judge %+v should be a Bradley–Terry model above chance on the training split", j)
	}
	if !rep.Judges["rm"].ReferenceConditioned {
		t.Errorf("the rm judge should be the gap model")
	}
	table, err := os.ReadFile(filepath.Join(out, "seed=1", EvalTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| pit_rl |", "| pit_sft |", "RL − SFT", "pref_judge (bradley-terry", "pref_rm (pit-gap"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("the eval table lacks %q:\n%s", want, table)
		}
	}
	// Both reward models publish pref_rm.json; the judge's is prefixed.
	var rmRep, judgeRep Report
	if err := results.ReadJSON(filepath.Join(out, "seed=1", RMFile), &rmRep); err != nil {
		t.Fatal(err)
	}
	if err := results.ReadJSON(filepath.Join(out, "seed=1", "pref_judge-"+RMFile), &judgeRep); err != nil {
		t.Fatal(err)
	}
	if rmRep.Plugin != "pit-gap" || judgeRep.Plugin != "bradley-terry" {
		t.Errorf("published reports: pref_rm by %q, pref_judge by %q", rmRep.Plugin, judgeRep.Plugin)
	}
	// RL raises the reward it optimises: r_gap(x, y_ref, y) of its
	// rollouts, first steps against last.
	ms, err := results.ReadJSONL[results.Metric](filepath.Join(out, "seed=1", results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var first, last []float64
	for _, m := range ms {
		if m.Stage == "pref_pit_rl" && m.Name == "reward" {
			switch {
			case m.Step <= 5:
				first = append(first, m.Value)
			case m.Step > 25:
				last = append(last, m.Value)
			}
		}
	}
	if len(first) != 5 || len(last) != 5 || !(mean(last) > mean(first)) {
		t.Errorf("pref_pit_rl's reward went %v -> %v, want a rise", first, last)
	}
	for _, name := range []string{"pit_rl", "pit_sft"} {
		for _, j := range []string{"rm", "judge"} {
			g := rep.Improvers[name][j]
			if g.Gain.N != 60 || !(g.Gain.Lo <= g.Gain.Point && g.Gain.Point <= g.Gain.Hi) || g.WinRate.Point < 0 || g.WinRate.Point > 1 {
				t.Errorf("%s/%s: %+v", name, j, g)
			}
		}
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
