package pluginhost

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	_ "github.com/pit-lab/pit/core/pipeline" // the stages
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/sdk"
)

// killingHost launches plugins like Host and, on the killAt-th call of
// the reward plugin's model service (made from inside the plugin's Score
// during RL), kills the reward plugin (mid-call) and the algorithm plugin
// (between its calls) with SIGKILL.
type killingHost struct {
	*Host
	killAt int64
	calls  atomic.Int64
	mu     sync.Mutex
	last   map[string]*Handle // by slot
	killed []int
}

func (k *killingHost) Launch(ctx context.Context, s runner.PluginSpec, seed int64, models any) (runner.Plugin, error) {
	if ms, ok := models.(host.ModelService); ok && k.killAt > 0 {
		models = host.ModelFunc(func(ctx context.Context, model string, items []sdk.Input) ([]float64, error) {
			if k.calls.Add(1) == k.killAt {
				k.mu.Lock()
				for _, slot := range []string{"reward", "algorithm"} {
					if h := k.last[slot]; h != nil {
						k.killed = append(k.killed, h.PID())
						syscall.Kill(h.PID(), syscall.SIGKILL)
					}
				}
				k.mu.Unlock()
			}
			return ms.Score(ctx, model, items)
		})
	}
	p, err := k.Host.Launch(ctx, s, seed, models)
	if err == nil {
		k.mu.Lock()
		k.last[s.Slot] = p.(*Handle)
		k.mu.Unlock()
	}
	return p, err
}

// execute runs an experiment file's grid into dir with ph.
func execute(t *testing.T, file, dir string, ph runner.PluginHost) runner.Summary {
	t.Helper()
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
	sum, err := runner.Execute(ctx, plan, runner.Options{Dir: filepath.Join(dir, exp.Name), Plugins: ph, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// executeWithPolicy is execute with the experiment's [plugins] policy
// applied to ph first, as pit run does.
func executeWithPolicy(t *testing.T, file, dir string, ph *Host) runner.Summary {
	t.Helper()
	exp, err := experiment.Load(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := experiment.Expand(exp)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := PolicyFor(runs)
	if err != nil {
		t.Fatal(err)
	}
	ph.SetPolicy(pol)
	env, err := EnvFor(runs)
	if err != nil {
		t.Fatal(err)
	}
	ph.SetEnv(env)
	return execute(t, file, dir, ph)
}

// writeExperiment writes the experiment file base with extra appended to
// file.
func writeExperiment(t *testing.T, base, file, extra string) {
	t.Helper()
	b, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(b, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runRL runs testdata/rl.toml into dir and returns its run's manifest and
// metrics.
func runRL(t *testing.T, dir string, ph runner.PluginHost) (results.Manifest, []results.Metric) {
	t.Helper()
	sum := execute(t, "testdata/rl.toml", dir, ph)
	runDir := filepath.Join(sum.Dir, "seed=1")
	var m results.Manifest
	if err := results.ReadJSON(filepath.Join(runDir, results.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	ms, err := results.ReadJSONL[results.Metric](filepath.Join(runDir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	return m, ms
}

// TestKillPluginsMidRL kills the reward plugin in the middle of a Score call
// and the (stateful, adaptive-KL) algorithm plugin between calls, during
// RLHF: the run completes, each fault is a line in the manifest, and every
// metric equals that of an undisturbed run with the same seed.
func TestKillPluginsMidRL(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small pipeline twice; skipped with -short")
	}
	calm := New(context.Background(), nil, "")
	defer calm.Close()
	wantM, want := runRL(t, t.TempDir(), calm)
	if wantM.Status != results.StatusDone {
		t.Fatalf("undisturbed run: %s: %s", wantM.Status, wantM.Error)
	}

	kh := &killingHost{Host: New(context.Background(), nil, ""), killAt: 3, last: map[string]*Handle{}}
	defer kh.Close()
	gotM, got := runRL(t, t.TempDir(), kh)
	if gotM.Status != results.StatusDone {
		t.Fatalf("run with killed plugins: %s: %s", gotM.Status, gotM.Error)
	}
	if len(kh.killed) != 2 {
		t.Fatalf("killed %v: the kill hook did not fire during RL (model calls: %d)", kh.killed, kh.calls.Load())
	}
	var faults []string
	for _, w := range gotM.Warnings {
		if strings.Contains(w, "plugin fault") {
			faults = append(faults, w)
		}
	}
	joined := strings.Join(faults, "\n")
	for _, want := range []string{`reward plugin "bradley-terry"`, "exited during Score", `algorithm plugin "ppo"`, "restarted it"} {
		if !strings.Contains(joined, want) {
			t.Errorf("manifest warnings lack %q:\n%s", want, joined)
		}
	}
	if len(faults) != 2 {
		t.Errorf("%d fault lines in the manifest, want 2:\n%s", len(faults), joined)
	}

	if len(got) != len(want) {
		t.Fatalf("%d metrics after the kills, %d undisturbed", len(got), len(want))
	}
	// Stages that run in parallel interleave their lines.
	for _, ms := range [][]results.Metric{want, got} {
		sort.SliceStable(ms, func(i, j int) bool {
			a, b := ms[i], ms[j]
			if a.Stage != b.Stage {
				return a.Stage < b.Stage
			}
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			return a.Step < b.Step
		})
	}
	rl := 0
	for i := range want {
		a, b := want[i], got[i]
		if a.Stage != b.Stage || a.Step != b.Step || a.Name != b.Name || a.Value != b.Value {
			t.Fatalf("metric %d: undisturbed %s/%s step %d = %v, after kills %s/%s step %d = %v",
				i, a.Stage, a.Name, a.Step, a.Value, b.Stage, b.Name, b.Step, b.Value)
		}
		if a.Stage == "rlhf" {
			rl++
		}
	}
	if rl == 0 {
		t.Fatal("no RLHF metrics: the comparison does not cover RL")
	}
}

// A plugin that dies on every attempt fails its run after the bounded
// retries, with the reason in the manifest, while the grid's other run
// completes.
func TestPluginThatKeepsDyingFailsOnlyItsRun(t *testing.T) {
	reg := runner.NewRegistry()
	reg.Register(runner.Kind{Name: "score", Plugins: []runner.Slot{{Kind: "reward"}}, Run: func(c *runner.Context) error {
		var h *Handle
		deadly := c.Settings == "deadly"
		models := host.ModelFunc(func(ctx context.Context, model string, items []sdk.Input) ([]float64, error) {
			if deadly {
				syscall.Kill(h.PID(), syscall.SIGKILL)
			}
			return make([]float64, len(items)), nil
		})
		p, err := c.Plugin("reward", models)
		if err != nil {
			return err
		}
		h = p.(*Handle)
		r, err := h.Reward()
		if err != nil {
			return err
		}
		_, err = r.Score(c, &sdk.ScoreRequest{Items: []sdk.Input{{Prompt: []int32{1}, Response: []int32{2}}}})
		return err
	}})
	var runs []runner.RunSpec
	for _, seed := range []int64{1, 2} {
		settings := map[int64]string{1: "deadly", 2: "calm"}[seed]
		runs = append(runs, runner.RunSpec{ID: fmt.Sprintf("seed=%d", seed), Seed: seed, Stages: []runner.StageSpec{
			{Name: "score", Settings: settings, Config: settings, Plugins: []runner.PluginSpec{{Slot: "reward", Name: "bradley-terry"}}},
		}})
	}
	dir := t.TempDir()
	ph := New(context.Background(), nil, "")
	defer ph.Close()
	sum, err := runner.Execute(context.Background(), runner.Plan{Experiment: "e", Runs: runs}, runner.Options{Dir: dir, Registry: reg, CodeVersion: "test", Plugins: ph})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.Failed != 1 {
		t.Fatalf("summary %+v: want one run done, one failed", sum)
	}
	var m results.Manifest
	if err := results.ReadJSON(filepath.Join(dir, "seed=1", results.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	t.Logf("the failed run's error: %s", m.Error)
	want := fmt.Sprintf("exited during Score; gave up after %d attempt(s)", DefaultPolicy.Retries+1)
	if m.Status != results.StatusFailed || !strings.Contains(m.Error, want) || !strings.Contains(m.Error, `reward plugin "bradley-terry"`) {
		t.Errorf("failed run: status %s, error %q (want it to contain %q)", m.Status, m.Error, want)
	}
}
