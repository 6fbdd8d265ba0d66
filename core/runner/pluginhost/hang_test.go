package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// envHangOnce names a marker file: the "hang-once" reward plugin's process
// that removes it blocks in its second Score call, the others behave as
// bradley-terry.
const envHangOnce = "PIT_TEST_HANG_ONCE"

type hangOnce struct {
	sdk.Reward
	calls int
}

func (r *hangOnce) Describe(ctx context.Context) (*sdk.Description, error) {
	d, err := r.Reward.Describe(ctx)
	if err != nil {
		return nil, err
	}
	d.Name = "hang-once"
	return d, nil
}

func (r *hangOnce) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if r.calls++; r.calls == 2 && os.Remove(os.Getenv(envHangOnce)) == nil {
		time.Sleep(time.Hour)
	}
	return r.Reward.Score(ctx, req)
}

func init() {
	registry.Register(sdk.KindReward, "hang-once", func() sdk.Plugin {
		bt, _ := registry.Builtin(sdk.KindReward, "bradley-terry")
		return &hangOnce{Reward: bt().(sdk.Reward)}
	})
}

// TestHungPluginMidRL: a reward plugin that stops answering mid-RL is
// killed after the experiment's [plugins] call_timeout, restarted, and the
// run completes with the fault in its manifest.
func TestHungPluginMidRL(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small pipeline; skipped with -short")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "hang")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envHangOnce, marker)
	file := filepath.Join(dir, "hang.toml")
	writeExperiment(t, "testdata/rl.toml", file, "\n[stages.rlhf.reward]\nplugin = \"hang-once\"\n\n[plugins]\ncall_timeout = \"3s\"\nenv = [\""+envHangOnce+"\"]\n")
	ph := New(context.Background(), nil, "")
	defer ph.Close()
	start := time.Now()
	sum := executeWithPolicy(t, file, filepath.Join(dir, "out"), ph)
	if sum.Done != 1 {
		var m results.Manifest
		results.ReadJSON(filepath.Join(sum.Dir, "seed=1", results.ManifestFile), &m)
		t.Fatalf("summary %+v: want the run done; error: %s", sum, m.Error)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the plugin never hung: the test does not test the deadline")
	}
	var m results.Manifest
	if err := results.ReadJSON(filepath.Join(sum.Dir, "seed=1", results.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(m.Warnings, "\n")
	if !strings.Contains(joined, `reward plugin "hang-once"`) || !strings.Contains(joined, "did not answer Score within 3s; killed it; restarted it") {
		t.Errorf("manifest warnings lack the hang:\n%s", joined)
	}
	if d := time.Since(start); d > 2*time.Minute {
		t.Errorf("the run took %v", d)
	}
}
