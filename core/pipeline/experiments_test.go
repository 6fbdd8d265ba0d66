package pipeline

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/runner"
	_ "github.com/pit-lab/pit/plots" // registers the [[plot]] section experiment files may declare
	"github.com/pit-lab/pit/plugins/host"
)

// TestExperimentFiles checks that the default experiment and every file in
// experiments/ load, validate (plugin names and configs included), expand
// and plan with the registered stages.
func TestExperimentFiles(t *testing.T) {
	experiment.SetPluginValidator(experiment.PluginValidatorFunc(func(_ context.Context, ref experiment.PluginRef) []error {
		if ref.Path != "" {
			return nil
		}
		return host.Validate(ref.Kind, ref.Name, ref.Config)
	}))
	defer experiment.SetPluginValidator(nil)
	files, err := filepath.Glob("../../experiments/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range []string{"curriculum-ablation", "reward-formulation", "rl-algorithm", "temperature", "iterations", "hidden-preferences", "reward-hacking"} {
		want["../../experiments/"+n+".toml"] = true
	}
	for _, f := range files {
		delete(want, f)
	}
	for f := range want {
		t.Errorf("missing experiment file %s", f)
	}
	files = append(files, "../../experiments.toml", "testdata/tiny.toml", "testdata/variants.toml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			exp, err := experiment.Load(context.Background(), f)
			if err != nil {
				t.Fatalf("%v", err)
			}
			runs, err := experiment.Expand(exp)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) == 0 {
				t.Fatal("no runs")
			}
			if _, err := runner.PlanFor(exp, runs); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestExperimentFilesRejectBadPlugins makes sure the validator above is
// really consulted (a test that passes by accepting everything proves
// nothing).
func TestExperimentFilesRejectBadPlugins(t *testing.T) {
	experiment.SetPluginValidator(experiment.PluginValidatorFunc(func(_ context.Context, ref experiment.PluginRef) []error {
		return host.Validate(ref.Kind, ref.Name, ref.Config)
	}))
	defer experiment.SetPluginValidator(nil)
	bad := `name = "bad"
seeds = [1]
[task]
kind = "synthetic"
[stages.data]
[stages.sft]
[stages.rm]
[stages.rlhf.algorithm]
plugin = "rloo"
config = { k = 4, no_such_key = 1 }
`
	if _, err := experiment.Parse(context.Background(), "bad.toml", []byte(bad)); err == nil {
		t.Fatal("an unknown rloo config key was accepted")
	}
}
