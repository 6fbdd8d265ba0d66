package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/nn"
	"github.com/pit-lab/pit/core/runner"
)

// TestInitFromStage runs sft and a pit_sft that starts from it: after one
// step at lr 1e-9 the improver's weights are the policy's (to 1e-6), where
// init_from = "scratch" gives weights far from them.
func TestInitFromStage(t *testing.T) {
	dir := t.TempDir()
	runExperiment(t, "testdata/initfrom.toml", dir, inProcessHost{})
	stage := func(name string) string {
		t.Helper()
		link := filepath.Join(dir, "initfrom", "seed=1", runner.StagesDir, name)
		m, err := filepath.EvalSymlinks(link)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	load := func(name string) map[string][]float64 {
		t.Helper()
		m, err := nn.Load(filepath.Join(stage(name), modelFile))
		if err != nil {
			t.Fatal(err)
		}
		return m.Weights()
	}
	policy, improver := load("sft"), load("pit_sft")
	if d := maxDiff(policy, improver); d > 1e-6 {
		t.Errorf("pit_sft starts from sft: weights differ by up to %g", d)
	}
	log, err := os.ReadFile(filepath.Join(stage("pit_sft"), "stage.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "initialised from another stage") {
		t.Errorf("pit_sft's log does not say where its model came from:\n%s", log)
	}

	// The same pipeline with init_from = "scratch" starts elsewhere.
	scratch := filepath.Join(t.TempDir(), "scratch.toml")
	writeVariant(t, "testdata/initfrom.toml", scratch, "[stages.pit_sft]\n", "[stages.pit_sft]\ninit_from = \"scratch\"\n")
	dir2 := t.TempDir()
	runExperiment(t, scratch, dir2, inProcessHost{})
	m, err := nn.Load(filepath.Join(dir2, "initfrom", "seed=1", runner.StagesDir, "pit_sft", modelFile))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(policy, m.Weights()); d < 1e-3 {
		t.Errorf("init_from = \"scratch\": weights within %g of the policy's", d)
	}
}

// TestInitFromKeys checks that init_from enters the cache key: the source
// stage's key for a stage name, the file's content for a checkpoint file.
func TestInitFromKeys(t *testing.T) {
	dir := t.TempDir()
	keys := func(file string) map[string]string {
		t.Helper()
		exp, err := experiment.Load(context.Background(), file)
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
		ins, err := runner.Instances(context.Background(), plan, runner.Options{Dir: filepath.Join(dir, "out"), CodeVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, in := range ins {
			out[in.Stage] = in.Key
		}
		return out
	}
	variant := func(name, old, new string) string {
		path := filepath.Join(dir, name+".toml")
		writeVariant(t, "testdata/initfrom.toml", path, old, new)
		return path
	}
	base := keys("testdata/initfrom.toml")
	longerSFT := keys(variant("sft4", "[stages.sft]\nsteps = 3", "[stages.sft]\nsteps = 4"))
	if longerSFT["sft"] == base["sft"] || longerSFT["pit_sft"] == base["pit_sft"] {
		t.Errorf("changing the source stage kept pit_sft's key: %v vs %v", base, longerSFT)
	}
	scratch := keys(variant("scratch", "[stages.pit_sft]\n", "[stages.pit_sft]\ninit_from = \"scratch\"\n"))
	if scratch["pit_sft"] == base["pit_sft"] {
		t.Error("init_from = \"scratch\" kept the key of init_from = \"sft\"")
	}
	// A checkpoint file: its bytes, not its name, enter the key.
	m, err := nn.New(nn.Config{Vocab: 59, Context: 48, DModel: 16, Layers: 1, Heads: 2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "start.bin")
	if err := m.Save(ckpt); err != nil {
		t.Fatal(err)
	}
	fromFile := variant("file", "[stages.pit_sft]\n", "[stages.pit_sft]\ninit_from = \"start.bin\"\n")
	k1 := keys(fromFile)["pit_sft"]
	m2, _ := nn.New(nn.Config{Vocab: 59, Context: 48, DModel: 16, Layers: 1, Heads: 2, Seed: 8})
	if err := m2.Save(ckpt); err != nil {
		t.Fatal(err)
	}
	k2 := keys(fromFile)["pit_sft"]
	if k1 == k2 {
		t.Error("a different checkpoint file under the same name kept pit_sft's key")
	}
	if k1 == base["pit_sft"] || k1 == scratch["pit_sft"] {
		t.Error("init_from a file has the key of another source")
	}
}

func writeVariant(t *testing.T, from, to, old, new string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, old) {
		t.Fatalf("%s has no %q", from, old)
	}
	if err := os.WriteFile(to, []byte(strings.Replace(s, old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func maxDiff(a, b map[string][]float64) float64 {
	var d float64
	for name, xs := range a {
		for i, x := range xs {
			d = math.Max(d, math.Abs(x-b[name][i]))
		}
	}
	return d
}
