package pluginhost

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// nanReward is bradley-terry whose third Score call returns NaN for its
// first item: a reward formulation that diverges mid-RL.
type nanReward struct {
	sdk.Reward
	calls int
}

func (r *nanReward) Describe(ctx context.Context) (*sdk.Description, error) {
	d, err := r.Reward.Describe(ctx)
	if err != nil {
		return nil, err
	}
	d.Name = "nan-reward"
	return d, nil
}

func (r *nanReward) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	resp, err := r.Reward.Score(ctx, req)
	if r.calls++; err == nil && r.calls == 3 && len(resp.Rewards) > 0 {
		resp.Rewards[0] = math.NaN()
	}
	return resp, err
}

func init() {
	registry.Register(sdk.KindReward, "nan-reward", func() sdk.Plugin {
		bt, ok := registry.Builtin(sdk.KindReward, "bradley-terry")
		if !ok {
			panic("no built-in bradley-terry")
		}
		return &nanReward{Reward: bt().(sdk.Reward)}
	})
}

// TestNaNRewardFailsTheRun: a reward plugin that returns NaN mid-RL fails
// its run, whose manifest records the stage, the step and the value, and
// pit status says why; the grid's other arm completes.
func TestNaNRewardFailsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small pipeline; skipped with -short")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "nan.toml")
	grid := `
[grid.axes.reward]
path = "stages.rlhf.reward"
labels = ["bt", "nan"]
values = [{ plugin = "bradley-terry" }, { plugin = "nan-reward" }]
`
	writeExperiment(t, "testdata/rl.toml", file, grid)
	ph := New(context.Background(), nil, "")
	defer ph.Close()
	sum := execute(t, file, filepath.Join(dir, "out"), ph)
	if sum.Done != 1 || sum.Failed != 1 {
		t.Fatalf("summary %+v: want the bt arm done and the nan arm failed", sum)
	}
	states, err := results.ScanRuns(sum.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var failed *results.Manifest
	for i, s := range states {
		if strings.HasPrefix(s.Manifest.Run, "reward=nan") {
			failed = &states[i].Manifest
		}
	}
	if failed == nil {
		t.Fatalf("no run of the nan arm in %d runs", len(states))
	}
	if failed.Status != results.StatusFailed || !strings.Contains(failed.Error, "stage rlhf: step 3: ") || !strings.Contains(failed.Error, "is NaN") {
		t.Errorf("manifest: status %s, error %q", failed.Status, failed.Error)
	}
	var rec *results.StageRecord
	for i := range failed.Stages {
		if failed.Stages[i].Name == "rlhf" {
			rec = &failed.Stages[i]
		}
	}
	if rec == nil || rec.Status != results.StatusFailed || rec.FailedStep != 3 || rec.FailedValue != "NaN" {
		t.Errorf("rlhf stage record %+v: want failed at step 3 with NaN", rec)
	}
	var out bytes.Buffer
	if err := runner.WriteStatus(&out, states, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "failed") || !strings.Contains(out.String(), "stage rlhf: step 3: ") || !strings.Contains(out.String(), "is NaN") {
		t.Errorf("pit status does not say why the run failed:\n%s", out.String())
	}
}
