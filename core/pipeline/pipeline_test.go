package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	_ "github.com/pit-lab/pit/plugins/builtin"
	"github.com/pit-lab/pit/plugins/sdk"
)

// inProcessHost serves the built-in plugins inside the test process: the
// stages' logic is tested here without process start-up; the end-to-end
// test (e2e_test.go) runs them as real plugin processes.
type inProcessHost struct{}

func (inProcessHost) Identify(_ context.Context, spec runner.PluginSpec) (results.PluginIdentity, error) {
	if _, ok := sdk.Builtin(sdk.Kind(spec.Slot), spec.Name); !ok {
		return results.PluginIdentity{}, fmt.Errorf("no built-in %s plugin %q", spec.Slot, spec.Name)
	}
	return results.PluginIdentity{Kind: spec.Slot, Name: spec.Name, Version: "test", SHA256: "in-process"}, nil
}

func (inProcessHost) Launch(ctx context.Context, spec runner.PluginSpec, seed int64, models any) (runner.Plugin, error) {
	f, ok := sdk.Builtin(sdk.Kind(spec.Slot), spec.Name)
	if !ok {
		return nil, fmt.Errorf("no built-in %s plugin %q", spec.Slot, spec.Name)
	}
	p := f()
	if err := p.Configure(ctx, &sdk.ConfigureRequest{Config: spec.Config, Seed: seed}); err != nil {
		return nil, err
	}
	switch v := p.(type) {
	case sdk.Reward:
		ms, _ := models.(sdk.ModelService)
		return &inProcReward{Reward: v, models: ms}, nil
	case sdk.Algorithm:
		return &inProcAlgorithm{v}, nil
	case sdk.Curriculum:
		return &inProcCurriculum{v}, nil
	}
	return nil, fmt.Errorf("plugin %q of unknown kind", spec.Name)
}

type inProcReward struct {
	sdk.Reward
	models sdk.ModelService
}

func (r *inProcReward) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	req.Models = r.models
	return r.Reward.Score(ctx, req)
}
func (r *inProcReward) Close() error { return nil }

type inProcAlgorithm struct{ sdk.Algorithm }

func (*inProcAlgorithm) Close() error { return nil }

type inProcCurriculum struct{ sdk.Curriculum }

func (*inProcCurriculum) Close() error { return nil }

// runExperiment runs an experiment file's grid into dir with host.
func runExperiment(t *testing.T, file, dir string, host runner.PluginHost) runner.Summary {
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
	sum, err := runner.Execute(context.Background(), plan, runner.Options{Dir: filepath.Join(dir, exp.Name), Plugins: host, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return sum
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
