package pipeline

import (
	"context"
	"os"
	"path/filepath"
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

// runExperiment runs an experiment file's grid into dir with host.
func runExperiment(t *testing.T, file, dir string, host runner.PluginHost) runner.Summary {
	t.Helper()
	sum, err := execute(t, context.Background(), file, dir, host)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// execute runs an experiment file's grid into dir with host until ctx is
// done, and returns the runner's summary and error.
func execute(t *testing.T, ctx context.Context, file, dir string, host runner.PluginHost) (runner.Summary, error) {
	t.Helper()
	exp, err := experiment.Load(context.Background(), file)
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	runs, err := experiment.Expand(exp)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := runner.PlanFor(exp, runs)
	if err != nil {
		t.Fatal(err)
	}
	return runner.Execute(ctx, plan, runner.Options{Dir: filepath.Join(dir, exp.Name), Plugins: host, CodeVersion: "test"})
}

func TestPipelineInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("trains every stage; skipped with -short")
	}
	dir := t.TempDir()
	sum := runExperiment(t, "testdata/tiny.toml", dir, inProcessHost{})
	entries, _ := os.ReadDir(filepath.Join(dir, "tiny"))
	if sum.Done != 1 {
		var m results.Manifest
		for _, e := range entries {
			if e.IsDir() && e.Name() != ".cache" {
				results.ReadJSON(filepath.Join(dir, "tiny", e.Name(), results.ManifestFile), &m)
			}
		}
		t.Fatalf("summary %+v; manifest error: %s", sum, m.Error)
	}
	checkLearning(t, filepath.Join(dir, "tiny"))
}

// TestPluginVariants runs every RL algorithm, curriculum and reward
// formulation through the stages for a few steps (plugins in process) and
// checks that every run finishes with finite numbers and that the paths
// each variant takes were taken.
func TestPluginVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("trains every stage; skipped with -short")
	}
	dir := t.TempDir()
	sum := runExperiment(t, "testdata/variants.toml", dir, inProcessHost{})
	expDir := filepath.Join(dir, "variants")
	for _, run := range runDirs(t, expDir) {
		var m results.Manifest
		if err := results.ReadJSON(filepath.Join(run, results.ManifestFile), &m); err != nil {
			t.Fatal(err)
		}
		if m.Status != results.StatusDone {
			t.Errorf("run %s: %s: %s", m.Run, m.Status, m.Error)
			continue
		}
		ms, err := results.ReadJSONL[results.Metric](filepath.Join(run, results.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ms {
			if !finite(x.Value) {
				t.Errorf("run %s: %s %s step %d is %v", m.Run, x.Stage, x.Name, x.Step, x.Value)
			}
		}
		rows, _ := results.ReadJSONL[results.EvalRow](filepath.Join(run, results.EvalFile))
		methods := map[string]bool{}
		temps := map[float64]bool{}
		for _, r := range rows {
			methods[r.Method] = true
			temps[r.Temperature] = true
		}
		if len(temps) != 2 {
			t.Errorf("run %s: eval rows at temperatures %v, want 0.4 and 1", m.Run, temps)
		}
		has := func(stage, name string) bool { return len(series(ms, stage, name)) > 0 }
		switch m.Factors["variant"] {
		case "ppo":
			if !has("rlhf", "value_loss") || series(ms, "rlhf", "value_loss")[0] == 0 {
				t.Errorf("ppo: no value loss in rlhf")
			}
			if !has("pit_rl", "reward/self") {
				t.Errorf("annealed with self_fraction: no self references in pit_rl")
			}
		case "remax", "reinforce":
			if !has("pit_rl", "refresh/pairs") && m.Factors["variant"] == "remax" {
				t.Errorf("metric-gated with refresh: the reward model was never refreshed")
			}
			if m.Factors["variant"] == "reinforce" && !methods[MethodRubric] {
				t.Errorf("rubric improver: eval methods %v, want %q", methods, MethodRubric)
			}
		case "grpo":
			if !methods["pit-reward-difference"] {
				t.Errorf("reward-difference improver: eval methods %v", methods)
			}
		}
	}
	if sum.Done != 4 {
		t.Fatalf("summary %+v", sum)
	}
}
