package runnertest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// An experiment file's grid runs through the real experiment loader: keys
// follow the resolved configuration, so arms that differ only in the last
// stage share the earlier ones.
func TestExperimentGrid(t *testing.T) {
	ctx := context.Background()
	exp, err := experiment.Load(ctx, filepath.Join("testdata", "grid.toml"))
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
	dir := filepath.Join(t.TempDir(), exp.Name)
	t.Setenv(MarkersEnv, "")
	sum, err := runner.Execute(ctx, plan, runner.Options{Dir: dir, Jobs: 2, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// 2 gens (one per seed) + 4 trains (seed x lr) + 8 evals.
	if sum.Runs != 8 || sum.Done != 8 || sum.Computed != 14 || sum.Cached != 0 {
		t.Fatalf("summary %+v, want 8 runs done from 14 computed stages", sum)
	}
	states, err := results.ScanRuns(dir)
	if err != nil || len(states) != 8 {
		t.Fatalf("scan: %d runs, %v", len(states), err)
	}
	trainKeys := map[string]bool{}
	for _, s := range states {
		m := s.Manifest
		if m.Status != results.StatusDone || m.Experiment != "testgrid" || len(m.Factors) != 2 {
			t.Errorf("run %s: %+v", m.Run, m)
		}
		trainKeys[m.Stages[1].Key] = true
		rows, err := results.ReadJSONL[results.EvalRow](filepath.Join(s.Dir, results.EvalFile))
		if err != nil || len(rows) != 1 || rows[0].Temperature != m.Factors["temp"] {
			t.Errorf("run %s eval %+v %v (factors %v)", m.Run, rows, err, m.Factors)
		}
	}
	if len(trainKeys) != 4 {
		t.Errorf("%d distinct train keys, want 4", len(trainKeys))
	}
	// Determinism: the same plan in a fresh directory gives the same keys
	// and byte-identical artefacts.
	dir2 := filepath.Join(t.TempDir(), exp.Name)
	if _, err := runner.Execute(ctx, plan, runner.Options{Dir: dir2, Jobs: 1, CodeVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		m2 := readManifest(t, filepath.Join(dir2, filepath.FromSlash(s.Manifest.Run)))
		for i, st := range s.Manifest.Stages {
			if m2.Stages[i].Key != st.Key {
				t.Errorf("run %s stage %s: key %s then %s", s.Manifest.Run, st.Name, st.Key, m2.Stages[i].Key)
			}
		}
		for _, f := range []string{"stages/test-gen/data.bin", "stages/test-train/model.txt", results.EvalFile} {
			a, err1 := os.ReadFile(filepath.Join(s.Dir, f))
			b, err2 := os.ReadFile(filepath.Join(dir2, filepath.FromSlash(s.Manifest.Run), f))
			if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
				t.Errorf("run %s: %s differs between two executions (%v, %v)", s.Manifest.Run, f, err1, err2)
			}
		}
	}

	// Rerunning the same file reuses everything.
	sum, err = runner.Execute(ctx, plan, runner.Options{Dir: dir, Jobs: 2, CodeVersion: "test"})
	if err != nil || sum.Computed != 0 || sum.Cached != 14 {
		t.Fatalf("rerun %+v %v", sum, err)
	}
}

func readManifest(t *testing.T, runDir string) results.Manifest {
	t.Helper()
	var m results.Manifest
	if err := results.ReadJSON(filepath.Join(runDir, results.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMissingNeededStage(t *testing.T) {
	ctx := context.Background()
	src := "name = \"bad\"\nseeds = [1]\n[task]\nkind = \"test-task\"\n[stages.test-train]\n"
	exp, err := experiment.Parse(ctx, "bad.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := experiment.Expand(exp)
	if err != nil {
		t.Fatal(err)
	}
	_, err = runner.PlanFor(exp, runs)
	want := `bad.toml: stages.test-train: stage kind test-train reads the artefacts of a stage named "test-gen", and there is none; add a [stages.test-gen] table (or remove this stage)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	// The same problem, at its line, before any plan is made: pit
	// validate and pit run call Preflight.
	err = experiment.Preflight(ctx, exp, experiment.CheckEnv{})
	want = `bad.toml:5: stages.test-train: stage kind test-train reads the artefacts of a stage named "test-gen", and there is none; add a [stages.test-gen] table (or remove this stage)`
	if err == nil || err.Error() != want {
		t.Errorf("Preflight: %v\nwant %s", err, want)
	}
}
