package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/hf/hftest"
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
		if pretrainedFiles[filepath.Base(f)] {
			continue // TestPretrainedExperimentFiles: they need a model folder
		}
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

// pretrainedFiles are the shipped experiments that start from a downloaded
// checkpoint (models/gpt2 beside experiments/).
var pretrainedFiles = map[string]bool{"hh-rlhf-gpt2.toml": true, "tldr-gpt2.toml": true}

// TestPretrainedExperimentFiles checks the experiments that start from
// GPT-2 small: without the checkpoint, validation names the init line and
// says how to get it; with a tiny stand-in of the same on-disk format and
// context at the same relative path, they validate (preflight included),
// expand and plan.
func TestPretrainedExperimentFiles(t *testing.T) {
	experiment.SetPluginValidator(experiment.PluginValidatorFunc(func(_ context.Context, ref experiment.PluginRef) []error {
		return host.Validate(ref.Kind, ref.Name, ref.Config)
	}))
	defer experiment.SetPluginValidator(nil)
	for name := range pretrainedFiles {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "experiments"), 0o755); err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(filepath.Join("../../experiments", name))
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(root, "experiments", name)
			if err := os.WriteFile(file, src, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, err = experiment.Load(ctx, file)
			var le *experiment.Error
			if !errors.As(err, &le) || le.Key != "model.init" || le.Line == 0 || !strings.Contains(le.Msg, "download-model.sh") {
				t.Fatalf("without the checkpoint: %v, want an error at model.init's line that says how to download it", err)
			}
			models := filepath.Join(root, "models", "gpt2")
			if err := os.MkdirAll(models, 0o755); err != nil {
				t.Fatal(err)
			}
			// GPT-2 small's context, a tiny width.
			if err := hftest.WriteGPT2(models, hftest.GPT2{DModel: 8, Layers: 2, Heads: 2, Context: 1024}, 1); err != nil {
				t.Fatal(err)
			}
			exp, err := experiment.Load(ctx, file)
			if err != nil {
				t.Fatal(err)
			}
			if err := experiment.Preflight(ctx, exp, experiment.MachineEnv(t.TempDir())); err != nil {
				t.Fatal(err)
			}
			runs, err := experiment.Expand(exp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := runner.PlanFor(exp, runs); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Preflight refuses a pretrained model whose context the task's inputs
// overflow, and one on the synthetic task, at the keys to change.
func TestPretrainedPreflight(t *testing.T) {
	root := t.TempDir()
	models := filepath.Join(root, "small")
	if err := os.MkdirAll(models, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := hftest.WriteGPT2(models, hftest.GPT2{DModel: 8, Layers: 1, Heads: 2, Context: 64}, 1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, task, stages, key string }{
		{"context", `kind = "preference"
format = "jsonl"
max_prompt_bytes = 32
max_response_bytes = 32
train.path = "a.jsonl"
eval.path = "b.jsonl"`, "[stages.pref_data]\n[stages.pref_rm]", "task.max_response_bytes"},
		{"synthetic", `kind = "synthetic"`, "[stages.data]\n[stages.sft]", "model.init"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(root, tc.name+".toml")
			text := "name = \"x\"\nseeds = [1]\n[task]\n" + tc.task + "\n[model]\ninit = \"small\"\n" + tc.stages + "\n"
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			exp, err := experiment.Load(context.Background(), file)
			if err != nil {
				t.Fatal(err)
			}
			err = experiment.Preflight(context.Background(), exp, experiment.MachineEnv(t.TempDir()))
			var le *experiment.Error
			if !errors.As(err, &le) || le.Key != tc.key || le.Line == 0 {
				t.Fatalf("preflight: %v, want an error at %s's line", err, tc.key)
			}
		})
	}
}
