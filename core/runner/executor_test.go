package runner

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
)

// counters counts computations per (stage, seed, config), across Execute calls.
type counters struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counters) inc(k string) {
	c.mu.Lock()
	c.n[k]++
	c.mu.Unlock()
}

func (c *counters) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *counters) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

type genSettings struct{ N int }
type trainSettings struct {
	Steps int
	LR    float64
	Delay time.Duration
	Fail  bool
}
type evalSettings struct{ Temperature float64 }

// testRegistry registers three small real stages: gen draws a linear
// regression data set from the seed, train fits it by gradient descent
// (logging the loss), eval scores the fit and publishes eval.jsonl.
func testRegistry(cnt *counters, block chan struct{}) *Registry {
	reg := NewRegistry()
	reg.Register(Kind{
		Name:     "gen",
		Settings: func() any { return &genSettings{N: 64} },
		Run: func(c *Context) error {
			cnt.inc(fmt.Sprintf("gen/%d", c.Seed("data")))
			s := c.Settings.(*genSettings)
			rng := c.Rand("data")
			buf := make([]byte, 0, 16*s.N)
			for i := 0; i < s.N; i++ {
				x := rng.Float64()*2 - 1
				y := 3*x + 0.5 + 0.1*rng.NormFloat64()
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(y))
			}
			return os.WriteFile(filepath.Join(c.Out, "data.bin"), buf, 0o644)
		},
	})
	reg.Register(Kind{
		Name:     "train",
		Needs:    []string{"gen"},
		Settings: func() any { return &trainSettings{Steps: 20, LR: 0.3} },
		Run: func(c *Context) error {
			s := c.Settings.(*trainSettings)
			cnt.inc(fmt.Sprintf("train/%d/%v", c.Seed("x"), s.LR))
			if s.Fail {
				return errors.New("diverged on purpose")
			}
			b, err := os.ReadFile(filepath.Join(c.Input("gen"), "data.bin"))
			if err != nil {
				return err
			}
			n := len(b) / 16
			var w, bias float64
			for step := 1; step <= s.Steps; step++ {
				if block != nil {
					select {
					case <-block:
					case <-c.Done():
						return c.Err()
					}
				}
				if s.Delay > 0 {
					select {
					case <-time.After(s.Delay):
					case <-c.Done():
						return c.Err()
					}
				}
				var gw, gb, loss float64
				for i := 0; i < n; i++ {
					x := math.Float64frombits(binary.LittleEndian.Uint64(b[16*i:]))
					y := math.Float64frombits(binary.LittleEndian.Uint64(b[16*i+8:]))
					e := w*x + bias - y
					loss += e * e / float64(n)
					gw += 2 * e * x / float64(n)
					gb += 2 * e / float64(n)
				}
				w -= s.LR * gw
				bias -= s.LR * gb
				if err := c.Metric(step, "loss", loss); err != nil {
					return err
				}
				c.Progress(step, s.Steps)
			}
			if w < 1 {
				c.Warn("slope %.2f far from 3", w)
			}
			return os.WriteFile(filepath.Join(c.Out, "model.txt"), fmt.Appendf(nil, "%v %v", w, bias), 0o644)
		},
	})
	reg.Register(Kind{
		Name:     "eval",
		Needs:    []string{"train"},
		Settings: func() any { return &evalSettings{Temperature: 1} },
		Publish:  []string{results.EvalFile},
		Run: func(c *Context) error {
			s := c.Settings.(*evalSettings)
			cnt.inc(fmt.Sprintf("eval/%d/%v", c.Seed("x"), s.Temperature))
			b, err := os.ReadFile(filepath.Join(c.Input("train"), "model.txt"))
			if err != nil {
				return err
			}
			var w, bias float64
			if _, err := fmt.Sscan(string(b), &w, &bias); err != nil {
				return err
			}
			c.Metric(0, "slope", w)
			return results.WriteJSONL(filepath.Join(c.Out, results.EvalFile), []results.EvalRow{{
				Method: "fit", Judge: "oracle", Temperature: s.Temperature, N: 1, Delta: -math.Abs(w - 3),
			}})
		},
	})
	return reg
}

// testPlan builds a grid of seeds × learning rates × temperatures.
func testPlan(seeds []int64, lrs, temps []float64) Plan {
	p := Plan{Experiment: "toy"}
	for _, lr := range lrs {
		for _, tp := range temps {
			for _, seed := range seeds {
				arm := fmt.Sprintf("lr=%v,temp=%v", lr, tp)
				p.Runs = append(p.Runs, RunSpec{
					ID: fmt.Sprintf("%s/seed=%d", arm, seed), Arm: arm, Seed: seed,
					Baseline: lr == lrs[0] && tp == temps[0],
					Factors:  map[string]any{"lr": lr, "temp": tp},
					Config:   fmt.Appendf(nil, "lr = %v\ntemp = %v\nseed = %d\n", lr, tp, seed),
					Stages: []StageSpec{
						{Name: "eval", Settings: &evalSettings{Temperature: tp}, Config: fmt.Sprintf("temp=%v", tp)},
						{Name: "gen", Settings: &genSettings{N: 64}, Config: "n=64"},
						{Name: "train", Settings: &trainSettings{Steps: 20, LR: lr}, Config: fmt.Sprintf("lr=%v", lr)},
					},
				})
			}
		}
	}
	return p
}

func readManifest(t *testing.T, dir, run string) results.Manifest {
	t.Helper()
	var m results.Manifest
	if err := results.ReadJSON(filepath.Join(dir, run, results.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExecuteSharesStagesAndReusesCache(t *testing.T) {
	cnt := &counters{n: map[string]int{}}
	reg := testRegistry(cnt, nil)
	dir := t.TempDir()
	plan := testPlan([]int64{1, 2}, []float64{0.3}, []float64{0.4, 1.0})
	opts := Options{Dir: dir, Jobs: 2, Registry: reg, CodeVersion: "test"}

	pre, err := Preview(context.Background(), plan, opts)
	if err != nil || len(pre) != 3 || fmt.Sprint(pre[0]) != fmt.Sprint(StagePreview{Stage: "gen", Instances: 2, Why: map[string]int{"never run": 2}}) ||
		fmt.Sprint(pre[2]) != fmt.Sprint(StagePreview{Stage: "eval", Instances: 4, Why: map[string]int{"never run": 4}}) {
		t.Fatalf("preview before: %+v %v", pre, err)
	}
	if _, err := os.Stat(filepath.Join(dir, CacheDir)); !os.IsNotExist(err) {
		t.Errorf("preview created the cache: %v", err)
	}
	sum, err := Execute(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if pre, _ := Preview(context.Background(), plan, opts); fmt.Sprint(pre[1]) != fmt.Sprint(StagePreview{Stage: "train", Instances: 2, Cached: 2}) {
		t.Errorf("preview after: %+v", pre)
	}
	// Why a stage is not reused: another code version changes every key;
	// another setting of train changes train's and, through its input,
	// eval's.
	other := opts
	other.CodeVersion = "other"
	if pre, _ := Preview(context.Background(), plan, other); fmt.Sprint(pre[1].Why) != fmt.Sprint(map[string]int{"code changed": 2}) {
		t.Errorf("preview with another code version: %+v", pre)
	}
	changed := testPlan([]int64{1, 2}, []float64{0.5}, []float64{0.4, 1.0})
	if pre, _ := Preview(context.Background(), changed, opts); fmt.Sprint(pre[1].Why) != fmt.Sprint(map[string]int{"settings changed": 2}) ||
		fmt.Sprint(pre[2].Why) != fmt.Sprint(map[string]int{"inputs changed": 4}) {
		t.Errorf("preview with another train setting: %+v", pre)
	}
	// 2 seeds × (gen, train) shared by both temperatures, + 4 evals.
	if sum.Computed != 8 || sum.Cached != 0 || sum.Done != 4 || sum.Failed != 0 {
		t.Fatalf("summary = %+v, want 8 computed, 4 runs done", sum)
	}
	if got := cnt.total(); got != 8 {
		t.Fatalf("stage functions ran %d times, want 8: %v", got, cnt.n)
	}
	for _, r := range plan.Runs {
		m := readManifest(t, dir, r.ID)
		if m.Status != results.StatusDone || len(m.Stages) != 3 || m.CodeVersion != "test" || m.Seed != r.Seed {
			t.Errorf("run %s manifest = %+v", r.ID, m)
		}
		// Dependency order, whatever the listed order.
		if names := []string{m.Stages[0].Name, m.Stages[1].Name, m.Stages[2].Name}; strings.Join(names, ",") != "gen,train,eval" {
			t.Errorf("run %s stage order %v", r.ID, names)
		}
		cfg, _ := os.ReadFile(filepath.Join(dir, r.ID, results.ConfigFile))
		if string(cfg) != string(r.Config) {
			t.Errorf("config.toml = %q", cfg)
		}
		ms, err := results.ReadJSONL[results.Metric](filepath.Join(dir, r.ID, results.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 21 { // 20 loss steps + the slope
			t.Fatalf("run %s has %d metrics, want 21", r.ID, len(ms))
		}
		if ms[0].Stage != "train" || ms[19].Step != 20 || !(ms[19].Value < ms[0].Value/10) {
			t.Errorf("run %s: loss did not fall tenfold: first %+v last %+v", r.ID, ms[0], ms[19])
		}
		if ms[20].Name != "slope" || math.Abs(ms[20].Value-3) > 0.5 {
			t.Errorf("run %s: fitted slope %+v, want ≈3", r.ID, ms[20])
		}
		rows, err := results.ReadJSONL[results.EvalRow](filepath.Join(dir, r.ID, results.EvalFile))
		if err != nil || len(rows) != 1 || rows[0].Temperature != r.Factors["temp"] {
			t.Errorf("run %s eval.jsonl = %+v, %v", r.ID, rows, err)
		}
		if _, err := os.Stat(filepath.Join(dir, r.ID, StagesDir, "train", "model.txt")); err != nil {
			t.Errorf("stage link: %v", err)
		}
	}
	countCached := func() int {
		n := 0
		for _, r := range plan.Runs {
			for _, s := range readManifest(t, dir, r.ID).Stages {
				if s.Cached {
					n++
				}
			}
		}
		return n
	}
	// gen and train of the second temperature, per seed, come from the
	// first temperature's run.
	if n := countCached(); n != 4 {
		t.Errorf("first invocation: %d stage records marked cached, want 4", n)
	}
	// The two temperatures of one seed share the train entry.
	a, b := readManifest(t, dir, plan.Runs[0].ID), readManifest(t, dir, plan.Runs[2].ID)
	if a.Seed != b.Seed || a.Stages[1].Key != b.Stages[1].Key || a.Stages[2].Key == b.Stages[2].Key {
		t.Errorf("keys: train %s vs %s (want equal), eval %s vs %s (want different)", a.Stages[1].Key, b.Stages[1].Key, a.Stages[2].Key, b.Stages[2].Key)
	}

	// A second invocation computes nothing.
	sum, err = Execute(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Computed != 0 || sum.Cached != 8 || sum.Done != 4 || cnt.total() != 8 {
		t.Fatalf("rerun summary = %+v, counts %v", sum, cnt.n)
	}
	// A stage is "cached" in a run's manifest only if another run computed it.
	cachedFlags := 0
	for _, r := range plan.Runs {
		for _, s := range readManifest(t, dir, r.ID).Stages {
			if s.Cached {
				cachedFlags++
			}
			if s.Seconds <= 0 {
				t.Errorf("run %s stage %s: no timing after reuse", r.ID, s.Name)
			}
		}
	}
	if cachedFlags != 4 { // gen and train of the second temperature, per seed
		t.Errorf("%d stage records marked cached, want 4", cachedFlags)
	}
	ms, _ := results.ReadJSONL[results.Metric](filepath.Join(dir, plan.Runs[0].ID, results.MetricsFile))
	if len(ms) != 21 {
		t.Errorf("after rerun %d metrics, want 21 (no duplicates)", len(ms))
	}

	// A changed setting recomputes only what depends on it; --force all.
	plan2 := testPlan([]int64{1, 2}, []float64{0.2}, []float64{0.4, 1.0})
	sum, err = Execute(context.Background(), plan2, opts)
	if err != nil || sum.Computed != 6 || sum.Cached != 2 {
		t.Fatalf("new lr: summary %+v, %v; want 2 trains + 4 evals recomputed, 2 gens reused", sum, err)
	}
	opts.Force = true
	sum, err = Execute(context.Background(), plan, opts)
	if err != nil || sum.Computed != 8 || sum.Cached != 0 {
		t.Fatalf("force: summary %+v, %v", sum, err)
	}
	if cnt.get(fmt.Sprintf("gen/%d", SeedFor(1, "stage", "gen", "data"))) != 2 {
		t.Errorf("force ran gen of seed 1 %d times in total, want 2", cnt.get(fmt.Sprintf("gen/%d", SeedFor(1, "stage", "gen", "data"))))
	}
}

func TestFailedStageFailsOnlyItsRuns(t *testing.T) {
	cnt := &counters{n: map[string]int{}}
	reg := testRegistry(cnt, nil)
	dir := t.TempDir()
	plan := testPlan([]int64{1}, []float64{0.3, 0.1}, []float64{1})
	plan.Runs[1].Stages[2].Settings = &trainSettings{Steps: 5, LR: 0.1, Fail: true}
	plan.Runs[1].Stages[2].Config = "fail"
	sum, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.Failed != 1 || len(sum.FailedRuns) != 1 || sum.FailedRuns[0] != plan.Runs[1].ID {
		t.Fatalf("summary = %+v", sum)
	}
	m := readManifest(t, dir, plan.Runs[1].ID)
	if m.Status != results.StatusFailed || !strings.Contains(m.Error, "stage train: diverged on purpose") {
		t.Errorf("failed run manifest: status %s error %q", m.Status, m.Error)
	}
	if m.Stages[2].Status != results.StatusFailed || !strings.Contains(m.Stages[2].Error, "not run: stage train failed") {
		t.Errorf("eval after failed train: %+v", m.Stages[2])
	}
	if m.Stages[0].Status != results.StatusDone {
		t.Errorf("gen of failed run: %+v", m.Stages[0])
	}
	if readManifest(t, dir, plan.Runs[0].ID).Status != results.StatusDone {
		t.Error("the healthy run did not finish")
	}
}

func TestPanickingStageFails(t *testing.T) {
	reg := NewRegistry()
	reg.Register(Kind{Name: "boom", Run: func(c *Context) error { panic("kaboom") }})
	dir := t.TempDir()
	plan := Plan{Experiment: "p", Runs: []RunSpec{{ID: "r", Stages: []StageSpec{{Name: "boom"}}}}}
	sum, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, dir, "r")
	if sum.Failed != 1 || !strings.Contains(m.Error, "panicked: kaboom") {
		t.Errorf("summary %+v, manifest error %q", sum, m.Error)
	}
}

func TestInterruptThenResume(t *testing.T) {
	cnt := &counters{n: map[string]int{}}
	block := make(chan struct{})
	reg := testRegistry(cnt, block)
	dir := t.TempDir()
	plan := testPlan([]int64{1, 2}, []float64{0.3}, []float64{1})
	ctx, cancel := context.WithCancel(context.Background())
	// Let 25 training steps through (the first train stage and 5 steps of
	// the second), then interrupt.
	go func() {
		for i := 0; i < 25; i++ {
			block <- struct{}{}
		}
		cancel()
	}()
	sum, err := Execute(ctx, plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if sum.Done != 1 || sum.Interrupted != 1 {
		t.Fatalf("summary %+v, want 1 done, 1 interrupted", sum)
	}
	m := readManifest(t, dir, plan.Runs[1].ID)
	if m.Status != results.StatusInterrupted || m.Stages[1].Status != results.StatusInterrupted || m.Stages[2].Status != results.StatusPending {
		t.Fatalf("interrupted run manifest: %+v", m)
	}
	ms, _ := results.ReadJSONL[results.Metric](filepath.Join(dir, plan.Runs[1].ID, results.MetricsFile))
	if len(ms) != 0 {
		t.Errorf("interrupted run has %d metrics of its uncommitted stage", len(ms))
	}
	// Resume: only the interrupted train and its eval run again.
	close(block)
	sum, err = Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"})
	if err != nil || sum.Done != 2 || sum.Computed != 2 || sum.Cached != 4 {
		t.Fatalf("resume: %+v, %v", sum, err)
	}
	ms, _ = results.ReadJSONL[results.Metric](filepath.Join(dir, plan.Runs[1].ID, results.MetricsFile))
	if len(ms) != 21 {
		t.Errorf("resumed run has %d metrics, want 21", len(ms))
	}
	seen := map[string]bool{}
	for _, x := range ms {
		k := fmt.Sprint(x.Stage, x.Step, x.Name)
		if seen[k] {
			t.Errorf("duplicate metric %s", k)
		}
		seen[k] = true
	}
	entries, _ := os.ReadDir(filepath.Join(dir, CacheDir, "train"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary cache dir left behind: %s", e.Name())
		}
	}
}

// Two runs that need the same slow stage at the same time compute it once.
func TestConcurrentRunsShareOneComputation(t *testing.T) {
	var calls atomic.Int32
	reg := NewRegistry()
	reg.Register(Kind{Name: "slow", Run: func(c *Context) error {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond)
		return nil
	}})
	reg.Register(Kind{Name: "after", Needs: []string{"slow"}, Run: func(c *Context) error { return nil }})
	var runs []RunSpec
	for i := 0; i < 4; i++ {
		runs = append(runs, RunSpec{ID: fmt.Sprintf("arm=%d", i), Seed: 7, Stages: []StageSpec{
			{Name: "slow", Config: "same"}, {Name: "after", Config: fmt.Sprint(i)},
		}})
	}
	sum, err := Execute(context.Background(), Plan{Experiment: "c", Runs: runs}, Options{Dir: t.TempDir(), Jobs: 4, Registry: reg, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || sum.Computed != 5 || sum.Done != 4 {
		t.Errorf("slow ran %d times (want 1); summary %+v", calls.Load(), sum)
	}
}

type fakePlugin struct {
	closed *atomic.Int32
	seed   int64
}

func (p *fakePlugin) Close() error { p.closed.Add(1); return nil }

type fakeHost struct {
	version  string
	sha      string // "abc" if empty
	launched atomic.Int32
	closed   atomic.Int32
}

func (h *fakeHost) Identify(_ context.Context, s PluginSpec) (results.PluginIdentity, error) {
	if s.Name == "missing" {
		return results.PluginIdentity{}, errors.New("no such plugin")
	}
	sha := h.sha
	if sha == "" {
		sha = "abc"
	}
	return results.PluginIdentity{Name: s.Name, Version: h.version, SHA256: sha}, nil
}

// TestBuiltinPluginKeys: a built-in plugin (no path) enters keys by name
// and version, not by the hash of the executable serving it (go run and go
// build of one tree differ there; the code version names the code); an
// external plugin enters by its bytes.
func TestBuiltinPluginKeys(t *testing.T) {
	reg := NewRegistry()
	reg.Register(Kind{Name: "rl", Plugins: []Slot{{Kind: "reward"}}, Run: func(c *Context) error { return nil }})
	key := func(path, sha string) string {
		t.Helper()
		plan := Plan{Experiment: "p", Runs: []RunSpec{{ID: "r", Seed: 1, Stages: []StageSpec{
			{Name: "rl", Plugins: []PluginSpec{{Slot: "reward", Name: "bt", Path: path}}},
		}}}}
		ins, err := Instances(context.Background(), plan, Options{Dir: t.TempDir(), Registry: reg, CodeVersion: "test", Plugins: &fakeHost{version: "1", sha: sha}})
		if err != nil {
			t.Fatal(err)
		}
		return ins[0].Key
	}
	if key("", "exe-one") != key("", "exe-two") {
		t.Error("a built-in's key changed with the serving executable's hash")
	}
	if key("/bin/plugin", "one") == key("/bin/plugin", "two") {
		t.Error("an external plugin's key kept its value when its bytes changed")
	}
}

func (h *fakeHost) Launch(_ context.Context, s PluginSpec, seed int64, models any) (Plugin, error) {
	h.launched.Add(1)
	return &fakePlugin{closed: &h.closed, seed: seed}, nil
}

func TestPluginsEnterKeysAndAreClosed(t *testing.T) {
	reg := NewRegistry()
	var seeds []int64
	reg.Register(Kind{Name: "rl", Plugins: []Slot{{Kind: "reward"}}, Run: func(c *Context) error {
		p, err := c.Plugin("reward", nil)
		if err != nil {
			return err
		}
		seeds = append(seeds, p.(*fakePlugin).seed)
		if _, err := c.Plugin("curriculum", nil); err == nil {
			return errors.New("undeclared slot launched")
		}
		return nil
	}})
	plan := Plan{Experiment: "p", Runs: []RunSpec{{ID: "r", Seed: 3, Stages: []StageSpec{
		{Name: "rl", Plugins: []PluginSpec{{Slot: "reward", Name: "bt"}}},
	}}}}
	dir := t.TempDir()
	host := &fakeHost{version: "1.0"}
	sum, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test", Plugins: host})
	if err != nil || sum.Done != 1 {
		t.Fatalf("%+v %v", sum, err)
	}
	if host.launched.Load() != 1 || host.closed.Load() != 1 {
		t.Errorf("launched %d closed %d, want 1 and 1", host.launched.Load(), host.closed.Load())
	}
	if seeds[0] != PluginSeed(3, "rl", "reward") {
		t.Errorf("plugin seed %d", seeds[0])
	}
	m := readManifest(t, dir, "r")
	if len(m.Plugins) != 1 || m.Plugins[0] != (results.PluginIdentity{Kind: "reward", Name: "bt", Version: "1.0", SHA256: "abc"}) {
		t.Errorf("manifest plugins %+v", m.Plugins)
	}
	key1 := m.Stages[0].Key
	// A new plugin version is a new key.
	host.version = "1.1"
	sum, _ = Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test", Plugins: host})
	if sum.Computed != 1 || readManifest(t, dir, "r").Stages[0].Key == key1 {
		t.Errorf("plugin version change did not change the key: %+v", sum)
	}
	// An unknown plugin fails before any work.
	plan.Runs[0].Stages[0].Plugins[0].Name = "missing"
	if _, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test", Plugins: host}); err == nil || !strings.Contains(err.Error(), "no such plugin") {
		t.Errorf("missing plugin: %v", err)
	}
}

func TestPlanErrors(t *testing.T) {
	reg := NewRegistry()
	noop := func(*Context) error { return nil }
	reg.Register(Kind{Name: "a", Run: noop})
	reg.Register(Kind{Name: "b", Needs: []string{"a"}, Run: noop})
	reg.Register(Kind{Name: "p", Plugins: []Slot{{Kind: "reward"}}, Run: noop})
	tests := []struct {
		name   string
		stages []StageSpec
		want   string
	}{
		{"unknown kind", []StageSpec{{Name: "zz"}}, `unknown stage kind "zz"`},
		{"missing need", []StageSpec{{Name: "b"}}, `stage b needs stage "a"`},
		{"cycle", []StageSpec{{Name: "a", Needs: []string{"b"}}, {Name: "b"}}, "cycle: a -> b -> a"},
		{"duplicate", []StageSpec{{Name: "a"}, {Name: "a"}}, `stage "a" appears twice`},
		{"missing plugin", []StageSpec{{Name: "p"}}, `no plugin chosen for slot "reward"`},
		{"extra plugin", []StageSpec{{Name: "a", Plugins: []PluginSpec{{Slot: "reward", Name: "x"}}}}, `has no plugin slot "reward"`},
		{"bad name", []StageSpec{{Name: "../x", Kind: "a"}}, `bad stage name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := Plan{Experiment: "e", Runs: []RunSpec{{ID: "r", Stages: tt.stages}}}
			_, err := Execute(context.Background(), plan, Options{Dir: t.TempDir(), Registry: reg, CodeVersion: "test"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSeedFor(t *testing.T) {
	a := SeedFor(1, "stage", "sft", "init")
	if a != SeedFor(1, "stage", "sft", "init") {
		t.Fatal("not deterministic")
	}
	distinct := map[int64]string{}
	for _, p := range [][]string{{"stage", "sft", "init"}, {"stage", "sft", "data"}, {"stage", "rm", "init"}, {"stagesft", "init"}, {"plugin", "sft", "init"}} {
		for _, root := range []int64{1, 2} {
			s := SeedFor(root, p...)
			k := fmt.Sprint(root, p)
			if prev, dup := distinct[s]; dup {
				t.Errorf("%s and %s share seed %d", prev, k, s)
			}
			distinct[s] = k
		}
	}
	r1, r2 := NewRand(5), NewRand(5)
	for i := 0; i < 10; i++ {
		if r1.Uint64() != r2.Uint64() {
			t.Fatal("NewRand not deterministic")
		}
	}
}

// A stage interrupted after saving a checkpoint resumes from it on the next
// invocation; the checkpoint is removed once the stage is committed.
func TestCheckpointSurvivesInterruption(t *testing.T) {
	var resumedFrom atomic.Int32
	started := make(chan struct{}, 1)
	reg := NewRegistry()
	reg.Register(Kind{Name: "long", Run: func(c *Context) error {
		dir, err := c.CheckpointDir()
		if err != nil {
			return err
		}
		step := 0
		if b, err := os.ReadFile(filepath.Join(dir, "step")); err == nil {
			fmt.Sscan(string(b), &step)
			resumedFrom.Store(int32(step))
		}
		for ; step < 10; step++ {
			if step == 5 && resumedFrom.Load() == 0 {
				started <- struct{}{}
				<-c.Done() // interrupted here on the first attempt
				return c.Err()
			}
			c.Metric(step, "x", float64(step))
			if err := os.WriteFile(filepath.Join(dir, "step"), fmt.Append(nil, step+1), 0o644); err != nil {
				return err
			}
		}
		return nil
	}})
	plan := Plan{Experiment: "ck", Runs: []RunSpec{{ID: "r", Seed: 1, Stages: []StageSpec{{Name: "long"}}}}}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if _, err := Execute(ctx, plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("first run: %v", err)
	}
	sum, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"})
	if err != nil || sum.Done != 1 {
		t.Fatalf("second run: %+v %v", sum, err)
	}
	if resumedFrom.Load() != 5 {
		t.Errorf("resumed from step %d, want 5", resumedFrom.Load())
	}
	m := readManifest(t, dir, "r")
	if _, err := os.Stat(filepath.Join(dir, CacheDir, "long", ".scratch-"+m.Stages[0].Key)); !os.IsNotExist(err) {
		t.Errorf("checkpoint directory not removed after commit: %v", err)
	}
}

// A second Execute on a grid that is running fails at once and names the
// holder.
func TestSecondProcessIsRefused(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	reg := NewRegistry()
	reg.Register(Kind{Name: "wait", Run: func(c *Context) error {
		close(started)
		<-release
		return nil
	}})
	plan := Plan{Experiment: "l", Runs: []RunSpec{{ID: "r", Stages: []StageSpec{{Name: "wait"}}}}}
	dir := t.TempDir()
	done := make(chan error)
	go func() {
		_, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"})
		done <- err
	}()
	<-started
	_, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("second Execute: %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Released: a later Execute runs.
	if _, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"}); err != nil {
		t.Errorf("after release: %v", err)
	}
}

// A plugin's config enters the key even when StageSpec.Config leaves it out.
func TestPluginConfigEntersKey(t *testing.T) {
	reg := NewRegistry()
	reg.Register(Kind{Name: "rl", Plugins: []Slot{{Kind: "reward"}}, Run: func(c *Context) error { return nil }})
	key := func(cfg map[string]any) string {
		plan := Plan{Experiment: "p", Runs: []RunSpec{{ID: "r", Seed: 3, Stages: []StageSpec{
			{Name: "rl", Plugins: []PluginSpec{{Slot: "reward", Name: "bt", Config: cfg}}},
		}}}}
		dir := t.TempDir()
		if _, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test", Plugins: &fakeHost{version: "1"}}); err != nil {
			t.Fatal(err)
		}
		return readManifest(t, dir, "r").Stages[0].Key
	}
	a, b, c := key(map[string]any{"beta": 0.1, "k": 4}), key(map[string]any{"k": 4, "beta": 0.1}), key(map[string]any{"beta": 0.2, "k": 4})
	if a != b || a == c {
		t.Errorf("keys %s %s %s: want equal for equal configs, different for different ones", a, b, c)
	}
}

// While a stage runs, its run's manifest shows its progress.
func TestManifestShowsProgress(t *testing.T) {
	old := ProgressEvery
	ProgressEvery = 20 * time.Millisecond
	defer func() { ProgressEvery = old }()
	reached, release := make(chan struct{}), make(chan struct{})
	reg := NewRegistry()
	reg.Register(Kind{Name: "slow", Run: func(c *Context) error {
		c.Progress(7, 10)
		close(reached)
		<-release
		return nil
	}})
	dir := t.TempDir()
	plan := Plan{Experiment: "p", Runs: []RunSpec{{ID: "r", Stages: []StageSpec{{Name: "slow"}}}}}
	done := make(chan error)
	go func() {
		_, err := Execute(context.Background(), plan, Options{Dir: dir, Registry: reg, CodeVersion: "test"})
		done <- err
	}()
	<-reached
	deadline := time.Now().Add(5 * time.Second)
	for {
		var m results.Manifest
		if err := results.ReadJSON(filepath.Join(dir, "r", results.ManifestFile), &m); err == nil && m.Extra[ProgressPrefix+"slow"] == "7/10" {
			var buf strings.Builder
			WriteStatus(&buf, []results.RunState{{Manifest: m}}, nil, time.Now())
			if !strings.Contains(buf.String(), "running slow (step 7/10)") {
				t.Errorf("status:\n%s", buf.String())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("progress never reached the manifest")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, dir, "r")
	if _, ok := m.Extra[ProgressPrefix+"slow"]; ok || m.Status != results.StatusDone {
		t.Errorf("final manifest: %+v", m)
	}
}

func TestPublishedName(t *testing.T) {
	for _, tc := range []struct{ stage, kind, file, want string }{
		{"rm", "rm", "gaps.jsonl", "gaps.jsonl"},
		{"rm_rubric", "rm", "gaps.jsonl", "rm_rubric-gaps.jsonl"},
		{"pref_judge", "pref_rm", "pref_rm.json", "pref_judge-pref_rm.json"},
	} {
		if got := PublishedName(tc.stage, tc.kind, tc.file); got != tc.want {
			t.Errorf("PublishedName(%q, %q, %q) = %q, want %q", tc.stage, tc.kind, tc.file, got, tc.want)
		}
	}
}
