// Package python_test runs the Python plugin SDK (python/pit_plugin) and its
// example plugins (a reward formulation, an RL algorithm, a curriculum) for
// real: each plugin is a python3 process launched by the pit host over
// go-plugin, exactly like an external Go plugin: from a private copy of the
// script, over mutual TLS, with the allow-listed environment.
//
// It needs Debian's python3-grpcio, python3-protobuf and
// python3-cryptography (scripts/install-deps.sh installs them). When they
// are missing and the test runs as root with apt-get (CI), it installs
// them; otherwise it skips, except under CI=true where it fails.
package python_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/plugins/algorithm/rloo"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/hosttest"
	"github.com/pit-lab/pit/plugins/sdk"
	"github.com/pit-lab/pit/plugins/sdk/plugintest"
	"github.com/pit-lab/pit/plugins/sdk/table"
)

var (
	pyOnce sync.Once
	pyExe  string
	pyErr  string
)

// hasGRPC reports whether python can import what pit_plugin needs.
func hasGRPC(python string) bool {
	return exec.Command(python, "-c", "import grpc, google.protobuf, cryptography").Run() == nil
}

func findPython() (string, string) {
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, c := range candidates {
		if hasGRPC(c) {
			return c, ""
		}
	}
	// Install Debian's packages where we may (CI runs as root on Debian).
	if _, err := exec.LookPath("apt-get"); err == nil && os.Geteuid() == 0 {
		install := func() error {
			cmd := exec.Command("apt-get", "install", "-y", "-q", "--no-install-recommends", "python3-grpcio", "python3-protobuf", "python3-cryptography")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			return cmd.Run()
		}
		if install() != nil {
			exec.Command("apt-get", "update", "-q").Run()
			install()
		}
		if hasGRPC("/usr/bin/python3") {
			return "/usr/bin/python3", ""
		}
	}
	return "", "no python3 with the grpc, protobuf and cryptography modules (scripts/install-deps.sh; Debian: apt-get install python3-grpcio python3-protobuf python3-cryptography)"
}

// python returns an interpreter with grpc, skipping (failing under CI) when
// there is none.
func python(t testing.TB) string {
	t.Helper()
	pyOnce.Do(func() { pyExe, pyErr = findPython() })
	if pyExe == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(pyErr)
		}
		t.Skip(pyErr)
	}
	return pyExe
}

// examplePlugin returns the path of an example plugin script
// (python/examples/NAME), run as pit runs it: by its "#!/usr/bin/env
// python3" line. When the first python3 on PATH lacks grpc, the test puts
// one that has it first on PATH (which the host passes on to plugins).
func examplePlugin(t *testing.T, name string) string {
	t.Helper()
	py := python(t)
	script, err := filepath.Abs(filepath.Join("examples", name))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := exec.LookPath("python3"); err != nil || !hasGRPC(p) {
		bin := t.TempDir()
		if err := os.Symlink(py, filepath.Join(bin, "python3")); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	return script
}

// rewardOnly hides the handle's SaveState/RestoreState: the example is not
// stateful, and the suite checks state when a value has those methods.
type rewardOnly struct{ sdk.Reward }

// TestConformance runs the conformance suite the Go built-ins pass against
// each Python example: every "in process" value is itself a Python process
// (the suite's New launches one), and Path runs the process check too.
func TestConformance(t *testing.T) {
	cases := []struct {
		script  string
		kind    sdk.Kind
		configs []map[string]any
		invalid []map[string]any
	}{
		{"clipped_difference.py", sdk.KindReward, []map[string]any{{"clip": 0.25}}, []map[string]any{{"clip": -1.0}, {"clip": 0.0}}},
		{"rloo.py", sdk.KindAlgorithm, []map[string]any{{"k": int64(3), "whiten": true, "kl_coef": 0.2}}, []map[string]any{{"k": int64(1)}, {"epochs": int64(0)}}},
		{"policy_ramp.py", sdk.KindCurriculum, []map[string]any{{"start": 0.25, "end": 0.75, "drop": 0.1}}, []map[string]any{{"end": 1.5}, {"drop": 0.0}}},
	}
	for _, c := range cases {
		t.Run(c.script, func(t *testing.T) {
			path := examplePlugin(t, c.script)
			ctx := context.Background()
			models := &plugintest.HashModels{}
			m := host.NewManager(ctx, host.Options{Models: models})
			t.Cleanup(func() { m.Close() })
			spec := host.Spec{Kind: c.kind, Path: path}
			plugintest.Run(t, plugintest.Suite{
				New: func() sdk.Plugin {
					p, err := m.Launch(ctx, spec)
					if err != nil {
						t.Fatalf("launch the Python plugin: %v", err)
					}
					switch c.kind {
					case sdk.KindReward:
						r, err := p.Reward()
						if err != nil {
							t.Fatal(err)
						}
						return rewardOnly{r}
					case sdk.KindAlgorithm:
						a, err := p.Algorithm()
						if err != nil {
							t.Fatal(err)
						}
						return a
					}
					cur, err := p.Curriculum()
					if err != nil {
						t.Fatal(err)
					}
					return cur
				},
				Configs: c.configs,
				Invalid: c.invalid,
				Models:  models,
				Seed:    7,
				Process: hosttest.Executable(path, ""),
			})
		})
	}
}

// TestSameAsGo checks the Python port against the Go example it ports
// (plugins/examples/clipped-difference), each in its own process: the same
// comparisons and bit-for-bit the same rewards for the same batch.
func TestSameAsGo(t *testing.T) {
	pyPath := examplePlugin(t, "clipped_difference.py")
	goPath := filepath.Join(t.TempDir(), "clipped-difference")
	build := exec.Command("go", "build", "-o", goPath, "../plugins/examples/clipped-difference")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx := context.Background()
	models := &plugintest.HashModels{}
	m := host.NewManager(ctx, host.Options{Models: models})
	defer m.Close()
	pairs := []sdk.Pair{{Prompt: []int32{1, 2}, Chosen: []int32{3, 4, 5}, Rejected: []int32{6}}, {Prompt: []int32{7}, Chosen: []int32{8}, Rejected: []int32{9, 10}}}
	var items []sdk.Input
	for i := range 20 {
		items = append(items, sdk.Input{Prompt: []int32{int32(i)}, Reference: []int32{int32(i % 3), 4}, Response: []int32{int32(i % 5), 2, 9}})
	}
	type result struct {
		cmp   *sdk.ComparisonsResponse
		score *sdk.ScoreResponse
	}
	run := func(path string) result {
		p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Path: path})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := p.Reward()
		if err := r.Configure(ctx, &sdk.ConfigureRequest{Config: map[string]any{"clip": 0.5}, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		cmp, err := r.Comparisons(ctx, &sdk.ComparisonsRequest{Pairs: pairs})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := r.Score(ctx, &sdk.ScoreRequest{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		return result{cmp, sc}
	}
	g, py := run(goPath), run(pyPath)
	if !reflect.DeepEqual(g.cmp.Comparisons, py.cmp.Comparisons) || len(g.cmp.Inputs) != len(py.cmp.Inputs) {
		t.Errorf("comparisons differ:\n go %+v\n py %+v", g.cmp, py.cmp)
	}
	if !reflect.DeepEqual(g.score, py.score) {
		t.Errorf("scores differ:\n go %+v\n py %+v", g.score, py.score)
	}
	clipped := 0
	for _, r := range py.score.Rewards {
		if r == 0.5 || r == -0.5 {
			clipped++
		}
	}
	if clipped == 0 || clipped == len(items) {
		t.Errorf("%d of %d rewards clipped: the batch does not exercise the clip", clipped, len(items))
	}
}

// TestErrors checks what a user sees for the Python plugin's mistakes: config
// problems worded per key as the Go decoder (sdk/table) words them, an exception in plugin code
// carried to the host, and a plugin run by hand refusing to start.
func TestErrors(t *testing.T) {
	path := examplePlugin(t, "clipped_difference.py")
	ctx := context.Background()
	m := host.NewManager(ctx, host.Options{})
	defer m.Close()
	p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindReward, Path: path, Name: "clipped-difference-py"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Reward()
	bad := map[string]any{"clip": "wide", "cilp": 1.0}
	err = r.Configure(ctx, &sdk.ConfigureRequest{Config: bad})
	got := []string{}
	for _, e := range sdk.SplitErrors(err) {
		got = append(got, e.Error())
	}
	want := []string{
		`key "cilp": unknown key (did you mean "clip"? known keys: clip)`,
		`key "clip": expected a number (got string "wide")`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config errors:\n got %q\nwant %q", got, want)
	}
	// Word for word what the Go decoder says about the same config.
	goCfg := struct {
		Clip float64 `toml:"clip"`
	}{}
	var goGot []string
	for _, e := range sdk.SplitErrors(table.Decode(bad, &goCfg)) {
		goGot = append(goGot, e.Error())
	}
	if !reflect.DeepEqual(got, goGot) {
		t.Errorf("the Python and Go decoders word the same problems differently:\nPython %q\nGo     %q", got, goGot)
	}
	if err := r.Configure(ctx, &sdk.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	// No model service offered: the plugin's exception reaches the host.
	_, err = r.Score(ctx, &sdk.ScoreRequest{Items: []sdk.Input{{Prompt: []int32{1}, Response: []int32{2}}}})
	if err == nil || !strings.Contains(err.Error(), "the host offers no models") {
		t.Errorf("Score without models: got %v", err)
	}
	if err := p.Ping(); err != nil {
		t.Errorf("the plugin died on an exception in its code: %v", err)
	}

	cmd := exec.Command(path)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "This binary is a plugin") {
		t.Errorf("run by hand: err %v, output %q", err, out)
	}
}

// TestShutdown checks the graceful stop of each kind: Kill asks the plugin
// through go-plugin's controller (Shutdown), the process is gone
// afterwards, the host logged no "failed to exit gracefully" and did not
// wait go-plugin's two seconds before killing it.
func TestShutdown(t *testing.T) {
	for _, c := range []struct {
		script string
		kind   sdk.Kind
	}{{"clipped_difference.py", sdk.KindReward}, {"rloo.py", sdk.KindAlgorithm}, {"policy_ramp.py", sdk.KindCurriculum}} {
		t.Run(c.script, func(t *testing.T) {
			path := examplePlugin(t, c.script)
			ctx := context.Background()
			var log bytes.Buffer
			logger := hclog.New(&hclog.LoggerOptions{Output: &syncBuffer{b: &log}, Level: hclog.Debug})
			m := host.NewManager(ctx, host.Options{Logger: logger})
			p, err := m.Launch(ctx, host.Spec{Kind: c.kind, Path: path})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Ping(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			m.Close()
			if !p.Exited() {
				t.Fatal("the plugin still runs after Close")
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("Close took %v: the plugin did not stop on Shutdown", d)
			}
			if strings.Contains(log.String(), "failed to exit gracefully") {
				t.Errorf("the host had to kill the plugin:\n%s", log.String())
			}
		})
	}
}

// syncBuffer serialises writes from go-plugin's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestMissingGRPCIsExplained runs the example under an interpreter that
// cannot import grpc (python3 -S: no site packages): the launch error is
// the plugin's own explanation, naming the interpreter and how to install
// grpcio, not go-plugin's "Unrecognized remote plugin message".
func TestMissingGRPCIsExplained(t *testing.T) {
	py := python(t)
	script, err := filepath.Abs(filepath.Join("examples", "clipped_difference.py"))
	if err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(t.TempDir(), "no-grpc")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+py+" -S "+script+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := host.NewManager(context.Background(), host.Options{})
	defer m.Close()
	_, err = m.Launch(context.Background(), host.Spec{Kind: sdk.KindReward, Path: wrapper})
	if err == nil {
		t.Fatal("a plugin without grpc started")
	}
	for _, want := range []string{"exited before its handshake", py, "cannot import grpc", "-m pip install grpcio protobuf", "apt-get install python3-grpcio"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "Unrecognized remote plugin message") {
		t.Errorf("go-plugin's generic message is shown:\n%v", err)
	}
}

// TestAlgorithmSameAsGo checks the Python RLOO against the Go built-in it
// ports (plugins/algorithm/rloo), the Python one in its own process: the
// same knobs and bit-for-bit the same advantages, returns and statistics.
func TestAlgorithmSameAsGo(t *testing.T) {
	path := examplePlugin(t, "rloo.py")
	ctx := context.Background()
	m := host.NewManager(ctx, host.Options{})
	defer m.Close()
	for _, cfg := range []map[string]any{nil, {"k": int64(3), "kl_coef": 0.3, "whiten": true, "epochs": int64(2)}} {
		p, err := m.Launch(ctx, host.Spec{Kind: sdk.KindAlgorithm, Path: path})
		if err != nil {
			t.Fatal(err)
		}
		py, _ := p.Algorithm()
		goAlg := rloo.New()
		for _, a := range []sdk.Algorithm{py, goAlg} {
			if err := a.Configure(ctx, &sdk.ConfigureRequest{Config: cfg, Seed: 1}); err != nil {
				t.Fatal(err)
			}
		}
		gk, _ := goAlg.Knobs(ctx)
		pk, err := py.Knobs(ctx)
		if err != nil || !reflect.DeepEqual(gk, pk) {
			t.Fatalf("knobs: go %+v, py %+v (%v)", gk, pk, err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for step := range 3 {
			req := &sdk.AdvantagesRequest{Step: step}
			for i := range 2 * gk.SamplesPerPrompt {
				const t = 9
				lp, ref, mask := make([]float64, t), make([]float64, t), make([]float64, t)
				for j := 1 + r.IntN(3); j < t-r.IntN(3); j++ {
					mask[j] = 1
					lp[j] = -3 * r.Float64()
					ref[j] = lp[j] + 0.3*r.NormFloat64()
				}
				req.LogProbs, req.RefLogProbs, req.Mask = append(req.LogProbs, lp), append(req.RefLogProbs, ref), append(req.Mask, mask)
				req.Rewards = append(req.Rewards, r.NormFloat64())
				req.Groups = append(req.Groups, i/gk.SamplesPerPrompt)
			}
			want, err := goAlg.Advantages(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := py.Advantages(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("config %v step %d:\n go %+v\n py %+v", cfg, step, want, got)
			}
		}
		// The same mistakes are refused.
		bad := &sdk.AdvantagesRequest{Rewards: []float64{1}, LogProbs: [][]float64{{0}}, RefLogProbs: [][]float64{{0}}, Mask: [][]float64{{1}}}
		if _, err := py.Advantages(ctx, bad); err == nil || !strings.Contains(err.Error(), "no group ids") {
			t.Errorf("a batch without groups: %v", err)
		}
	}
}

// TestEndToEnd runs pit (built from cmd/pit) on an experiment whose pit_rm
// and pit_rl stages use the Python plugin by path: pit validates its config
// through it, trains the gap model on its comparisons and runs RL on its
// rewards, and the manifest names it.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pit and trains a small pipeline; skipped with -short")
	}
	plugin := examplePlugin(t, "clipped_difference.py")
	dir := t.TempDir()
	bin := filepath.Join(dir, "pit")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/pit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src, err := os.ReadFile("testdata/e2e.toml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "e2e.toml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(src), "PLUGIN", plugin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results")
	cmd := exec.Command(bin, "run", file, "--out", out, "--progress", "plain", "--cache", filepath.Join(out, ".cache"))
	stdout, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("pit run: %v\n%s\n%s", err, stdout, stderr)
	}
	if !strings.Contains(string(stdout), "1 done, 0 failed") {
		t.Fatalf("pit run did not finish its run:\n%s", stdout)
	}
	runDir := filepath.Join(out, "python-e2e", "seed=1")
	var m results.Manifest
	if err := results.ReadJSON(filepath.Join(runDir, results.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range m.Plugins {
		if p.Kind == "reward" && p.Name == "clipped-difference-py" && p.Version == "1.0.0" && len(p.SHA256) == 64 {
			found = true
		}
	}
	if !found {
		t.Errorf("manifest does not list the Python plugin: %+v", m.Plugins)
	}
	ms, err := results.ReadJSONL[results.Metric](filepath.Join(runDir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var rewards []float64
	for _, x := range ms {
		if x.Stage == "pit_rl" && x.Name == "reward" {
			rewards = append(rewards, x.Value)
		}
	}
	if len(rewards) != 6 {
		t.Fatalf("%d pit_rl reward metrics, want one per step (6)", len(rewards))
	}
	for _, r := range rewards {
		if math.IsNaN(r) || r < -0.5 || r > 0.5 {
			t.Errorf("pit_rl mean reward %v outside the plugin's clip [-0.5, 0.5]", r)
		}
	}
}
