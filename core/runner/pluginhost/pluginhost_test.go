package pluginhost

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	_ "github.com/pit-lab/pit/plugins/builtin"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
)

// The test binary serves the built-ins when a host launches it as a plugin.
func TestMain(m *testing.M) {
	registry.ServeBuiltinIfChild()
	os.Exit(m.Run())
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// A stage launches its reward plugin through the runner: the plugin runs in
// another process, is configured, and is killed when the stage ends.
func TestStageLaunchesPluginProcess(t *testing.T) {
	var pid atomic.Int64
	reg := runner.NewRegistry()
	reg.Register(runner.Kind{Name: "rm", Plugins: []runner.Slot{{Kind: "reward"}}, Run: func(c *runner.Context) error {
		p, err := c.Plugin("reward", nil)
		if err != nil {
			return err
		}
		h := p.(*Handle)
		pid.Store(int64(h.PID()))
		if _, err := h.Reward(); err != nil {
			return err
		}
		if h.PID() == os.Getpid() || h.PID() <= 0 || !alive(h.PID()) {
			return errors.New("plugin does not run in its own live process")
		}
		return nil
	}})
	plan := runner.Plan{Experiment: "e", Runs: []runner.RunSpec{{ID: "r", Seed: 1, Stages: []runner.StageSpec{
		{Name: "rm", Plugins: []runner.PluginSpec{{Slot: "reward", Name: "bradley-terry"}}},
	}}}}
	dir := t.TempDir()
	ph := New(context.Background(), nil, "")
	defer ph.Close()
	sum, err := runner.Execute(context.Background(), plan, runner.Options{Dir: dir, Registry: reg, CodeVersion: "test", Plugins: ph})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 {
		var m results.Manifest
		results.ReadJSON(dir+"/r/manifest.json", &m)
		t.Fatalf("run not done: %+v (%s)", sum, m.Error)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(int(pid.Load())) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d still alive after the stage ended", pid.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var m results.Manifest
	if err := results.ReadJSON(dir+"/r/manifest.json", &m); err != nil {
		t.Fatal(err)
	}
	exeSum, _ := os.Executable()
	want, _ := host.FileSHA256(exeSum)
	if len(m.Plugins) != 1 || m.Plugins[0].Name != "bradley-terry" || m.Plugins[0].Kind != "reward" || m.Plugins[0].Version == "" || m.Plugins[0].SHA256 != want {
		t.Errorf("manifest plugins %+v (want sha %s)", m.Plugins, want)
	}
}

func TestBadPluginConfigFailsTheStage(t *testing.T) {
	ph := New(context.Background(), nil, "")
	defer ph.Close()
	_, err := ph.Launch(context.Background(), runner.PluginSpec{Slot: "reward", Name: "bradley-terry", Config: map[string]any{"no_such_key": 1}}, 1, nil)
	if err == nil || !strings.Contains(err.Error(), "no_such_key") {
		t.Errorf("err = %v, want it to name the unknown key", err)
	}
	if _, err := ph.Identify(context.Background(), runner.PluginSpec{Slot: "reward", Name: "no-such-plugin"}); err == nil {
		t.Error("unknown built-in identified")
	}
}

// Cancelling the host's context (SIGINT in pit run) kills running plugins.
func TestCancelKillsPlugins(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ph := New(ctx, nil, "")
	defer ph.Close()
	p, err := ph.Launch(ctx, runner.PluginSpec{Slot: "algorithm", Name: "rloo"}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.(*Handle).PID()
	if !alive(pid) {
		t.Fatal("plugin not running")
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin %d survived the cancellation", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
