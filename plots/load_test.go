package plots

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
)

func TestLoadFixtures(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	if res.Experiment != "fake-ablation" {
		t.Errorf("experiment %q", res.Experiment)
	}
	// 4 arms × 3 seeds; the stray manifest under .cache is not a run.
	if len(res.Runs) != 12 {
		t.Fatalf("%d runs, want 12", len(res.Runs))
	}
	for _, r := range res.Runs {
		if strings.Contains(r.Dir, ".cache") {
			t.Errorf("read a run from the cache: %s", r.Dir)
		}
	}
	first := res.Runs[0]
	// Sorted by arm label, then seed.
	if first.Label() != "round0-only" || first.Manifest.Seed != 1 || first.Dir != "curriculum=round0-only,reward=pit-gap/seed=1" {
		t.Errorf("first run %s (%s seed %d), want round0-only seed 1 first", first.Dir, first.Label(), first.Manifest.Seed)
	}
	if last := res.Runs[11]; last.Label() != "two-round" || last.Manifest.Seed != 3 {
		t.Errorf("last run %s, want two-round seed 3", last.Dir)
	}
	if got := res.Factors(); strings.Join(got, ",") != "curriculum,reward" {
		t.Errorf("factors %v", got)
	}
	if n := len(first.Metrics); n != 2*21+3*21 {
		t.Errorf("%d metrics in the first run, want 105", n)
	}
	if len(first.Eval) != 8 || len(first.Outcomes) != 240 {
		t.Errorf("first run: %d eval rows, %d outcomes; want 8 and 240", len(first.Eval), len(first.Outcomes))
	}
}

func TestLoadErrors(t *testing.T) {
	broken := t.TempDir()
	run := filepath.Join(broken, "exp", "a", "seed=1")
	if err := results.WriteJSON(filepath.Join(run, results.ManifestFile), results.Manifest{Experiment: "exp"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, results.MetricsFile), []byte("{\"stage\":\"sft\",\"step\":1,\"metric\":\"loss\",\"value\":1}\n{oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"no runs", t.TempDir(), "no runs under"},
		{"missing", filepath.Join(t.TempDir(), "nope"), "no such file"},
		{"two experiments", fixturesDir, "several experiments (fake-ablation, fake-sweep)"},
		{"bad line", filepath.Join(broken, "exp"), "metrics.jsonl:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(context.Background(), tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLabelFromFactors(t *testing.T) {
	r := &Run{Dir: "x", Manifest: results.Manifest{Factors: map[string]any{"b": 0.5, "a": "two-round"}}}
	if got := r.Label(); got != "a=two-round, b=0.5" {
		t.Errorf("label %q", got)
	}
}
