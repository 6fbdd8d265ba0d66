package prefstage

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/inproc"
	_ "github.com/pit-lab/pit/plugins/builtin"
)

// inProcessHost serves the built-in plugins inside the test process, so the
// stages' logic is tested without process start-up.
type inProcessHost = inproc.Host

// writePairs writes n generic pairs in which the chosen response ends in
// "yes" and the rejected one in "no!", behind random letters of the same
// length: a signal a small model can learn, invisible to the length
// baseline.
func writePairs(t *testing.T, path string, n int, seed uint64, identical bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	letters := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	for i := 0; i < n; i++ {
		k := 4 + rng.IntN(6)
		enc.Encode(map[string]string{"prompt": "Q: " + letters(5), "chosen": letters(k) + " yes", "rejected": letters(k) + " no!"})
	}
	if identical {
		enc.Encode(map[string]string{"prompt": "Q", "chosen": "same", "rejected": "same"})
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const experimentFile = `name = "pref-test"
seeds = [1]
[task]
kind = "preference"
format = "jsonl"
max_prompt_bytes = 6
max_response_bytes = 12
[task.train]
path = %q
[task.eval]
path = %q
[model]
d_model = 16
layers = 1
heads = 2
[stages.pref_data]
[stages.pref_rm]
steps = 150
batch_size = 16
lr = 3e-3
warmup_steps = 10
eval_every = 75
resamples = 500
[grid.axes.formulation]
path = "stages.pref_rm.reward"
labels = ["bt", "gap"]
values = [{ plugin = "bradley-terry" }, { plugin = "pit-gap" }]
`

// Both formulations learn a signal of the responses' content on the
// training file and rank held-out pairs of another file well above chance
// and above the length baseline; the gap model orders its four scores as
// intended on most pairs and writes them to gaps.jsonl.
func TestRewardModelsLearnHeldOutPreferences(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two small reward models; skipped with -short")
	}
	dir := t.TempDir()
	train, eval := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "eval.jsonl")
	writePairs(t, train, 400, 1, true)
	writePairs(t, eval, 120, 2, false)
	file := filepath.Join(dir, "exp.toml")
	if err := os.WriteFile(file, fmt.Appendf(nil, experimentFile, train, eval), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp, err := experiment.Load(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := experiment.Expand(exp)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := runner.PlanFor(exp, runs)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results", exp.Name)
	sum, err := runner.Execute(ctx, plan, runner.Options{Dir: out, Plugins: inProcessHost{}, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 2 || sum.Computed != 3 {
		t.Fatalf("summary %+v, want 2 runs from 3 stages (pref_data shared)", sum)
	}

	var data DataSummary
	if err := results.ReadJSON(filepath.Join(out, "formulation=bt", "seed=1", DataFile), &data); err != nil {
		t.Fatal(err)
	}
	if data.Train.Load.Pairs != 400 || data.Train.Load.Identical != 1 || data.Eval.Load.Pairs != 120 {
		t.Errorf("data summary %+v", data)
	}
	if data.LengthBaseline.Point != 0.5 || data.Train.PromptTruncRate != 1 || data.Train.ResponseTruncRate == 0 {
		t.Errorf("length baseline %v (want 0.5: equal lengths), truncation %v/%v", data.LengthBaseline, data.Train.PromptTruncRate, data.Train.ResponseTruncRate)
	}

	for _, arm := range []string{"bt", "gap"} {
		runDir := filepath.Join(out, "formulation="+arm, "seed=1")
		var rep Report
		if err := results.ReadJSON(filepath.Join(runDir, RMFile), &rep); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: accuracy %v, length baseline %v, order %v", arm, rep.Accuracy, rep.LengthBaseline, rep.Order)
		if rep.Accuracy.N != 120 || rep.Accuracy.Lo < 0.75 || !(rep.Accuracy.Lo <= rep.Accuracy.Point && rep.Accuracy.Point <= rep.Accuracy.Hi) {
			t.Errorf("%s: held-out accuracy %v, want its CI above 0.75", arm, rep.Accuracy)
		}
		if rep.Accuracy.Lo <= rep.LengthBaseline.Hi {
			t.Errorf("%s: accuracy %v does not beat the length baseline %v", arm, rep.Accuracy, rep.LengthBaseline)
		}
		gaps, err := results.ReadJSONL[results.GapScore](filepath.Join(runDir, results.GapsFile))
		if err != nil {
			t.Fatal(err)
		}
		if arm == "bt" {
			if rep.ReferenceConditioned || len(gaps) != 0 || rep.Order != nil {
				t.Errorf("bt: reference conditioned %v, %d gap rows, order %v", rep.ReferenceConditioned, len(gaps), rep.Order)
			}
			continue
		}
		if !rep.ReferenceConditioned || len(gaps) != 120 {
			t.Fatalf("gap: reference conditioned %v, %d gap rows, want 120", rep.ReferenceConditioned, len(gaps))
		}
		if o := rep.Order["both"]; o.Point < 0.6 {
			t.Errorf("gap: g_wl > g_ww and g_ll > g_lw on %v of pairs, want most", o)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Settings)
		key  string
	}{
		{"defaults", func(*Settings) {}, ""},
		{"steps", func(s *Settings) { s.Steps = 0 }, "steps"},
		{"lr", func(s *Settings) { s.LR = 0 }, "lr"},
		{"warmup", func(s *Settings) { s.Warmup = s.Steps }, "warmup_steps"},
		{"schedule", func(s *Settings) { s.Schedule = "step" }, "schedule"},
		{"resamples", func(s *Settings) { s.Resamples = 0 }, "resamples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			tc.edit(&s)
			err := s.Validate()
			if (tc.key == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.key)) {
				t.Fatalf("error %v, want one about %q", err, tc.key)
			}
		})
	}
}
