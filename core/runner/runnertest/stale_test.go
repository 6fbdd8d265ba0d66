package runnertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// A rerun that fails must not leave the previous run's eval table (and
// its stage link) in the run's directory looking current: pit export and
// pit plot read them from there. The failure itself is recorded in the
// manifest, and the earlier outputs stay in the cache.
func TestFailedRerunRemovesStaleTables(t *testing.T) {
	ctx := context.Background()
	t.Setenv(MarkersEnv, "")
	dir := filepath.Join(t.TempDir(), "stale")
	execute := func(failAt int) runner.Summary {
		t.Helper()
		src := []byte("name = \"stale\"\nseeds = [1]\n[task]\nkind = \"test-task\"\n[stages.test-gen]\npoints = 16\n" +
			"[stages.test-train]\nsteps = 8\nfail_at = " + string(rune('0'+failAt)) + "\n[stages.test-eval]\n")
		exp, err := experiment.Parse(ctx, "stale.toml", src)
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
		sum, err := runner.Execute(ctx, plan, runner.Options{Dir: dir, Jobs: 1, CodeVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	run := filepath.Join(dir, "seed=1")
	evalFile := filepath.Join(run, results.EvalFile)
	evalLink := filepath.Join(run, runner.StagesDir, "test-eval")

	if sum := execute(0); sum.Done != 1 {
		t.Fatalf("first run: %+v", sum)
	}
	if _, err := os.Stat(evalFile); err != nil {
		t.Fatalf("first run published no eval table: %v", err)
	}
	oldEntry, err := filepath.EvalSymlinks(evalLink)
	if err != nil {
		t.Fatal(err)
	}

	if sum := execute(5); sum.Failed != 1 {
		t.Fatalf("failing rerun: %+v", sum)
	}
	m := readManifest(t, run)
	if m.Status != results.StatusFailed || m.Error == "" {
		t.Errorf("manifest status %s error %q, want failed with the reason", m.Status, m.Error)
	}
	for _, p := range []string{evalFile, evalLink} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s of the previous run is still there after a failed rerun (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(oldEntry, results.EvalFile)); err != nil {
		t.Errorf("the earlier eval table is gone from the cache: %v", err)
	}

	// Fixing the file brings the table back, from the cache.
	if sum := execute(0); sum.Done != 1 || sum.Computed != 0 {
		t.Fatalf("rerun: %+v", sum)
	}
	if _, err := os.Stat(evalFile); err != nil {
		t.Errorf("eval table not republished: %v", err)
	}
}
