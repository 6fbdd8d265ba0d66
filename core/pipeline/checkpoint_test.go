package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pit-lab/pit/core/checkpoint"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// stageMetrics reads a run's metrics as "stage step name value" lines,
// without the wall times.
func stageMetrics(t *testing.T, expDir string) []string {
	t.Helper()
	dirs := runDirs(t, expDir)
	if len(dirs) != 1 {
		t.Fatalf("want 1 run under %s, found %v", expDir, dirs)
	}
	ms, err := results.ReadJSONL[results.Metric](filepath.Join(dirs[0], results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s %d %s %v", m.Stage, m.Step, m.Name, m.Value))
	}
	return out
}

// artefacts maps the relative path of every model and reward file under
// dir's cache to its contents.
func artefacts(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == cache.QuarantineDir {
			return filepath.SkipDir
		}
		if d.Name() == modelFile || d.Name() == rewardFile {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			out[rel] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTrainingStagesResume interrupts a run in the middle of sft, then of
// rm, then of rlhf (with PPO, whose adaptive KL has state), then of pit_rl
// (after a curriculum round change and a reward-model refresh), runs it
// again each time, and checks that the stages resumed from their checkpoints
// (they did not start over) and that the models, reward files, every
// metric and the manifest's warnings equal an uninterrupted run's.
func TestTrainingStagesResume(t *testing.T) {
	const file = "testdata/resume.toml"
	whole := undisturbedRun(t, file)

	// Runs 1 to 4 stop after sft's step 13, rm's 17, rlhf's 5 and
	// pit_rl's 6 (after its round change and reward refresh at step 5);
	// run 5 finishes. Each run records the first step each stage
	// checkpoints.
	dir := t.TempDir()
	defer func() { checkpoint.AfterCheckpoint = nil }()
	stops := []struct {
		stage string
		step  int
	}{{"sft", 13}, {"rm", 17}, {"rlhf", 5}, {"pit_rl", 6}, {"", 0}}
	var firsts []map[string]int
	for _, stop := range stops {
		var mu sync.Mutex
		first := map[string]int{}
		ctx, cancel := context.WithCancel(context.Background())
		checkpoint.AfterCheckpoint = func(stage string, step int) {
			mu.Lock()
			defer mu.Unlock()
			if _, ok := first[stage]; !ok {
				first[stage] = step
			}
			if stage == stop.stage && step == stop.step {
				cancel()
			}
		}
		_, err := execute(t, ctx, file, dir, inProcessHost{})
		cancel()
		switch {
		case stop.stage == "" && err != nil:
			t.Fatal(err)
		case stop.stage != "" && !errors.Is(err, runner.ErrInterrupted):
			t.Fatalf("stopping in %s after step %d: got %v, want an interrupted run", stop.stage, stop.step, err)
		}
		firsts = append(firsts, first)
	}
	wantFirsts := []map[string]int{{"sft": 1}, {"sft": 14, "rm": 1}, {"rm": 18, "rlhf": 1},
		{"rlhf": 6, "pit_sft": 1, "pit_rm": 1, "pit_rl": 1}, {"pit_rl": 7}}
	if fmt.Sprint(firsts) != fmt.Sprint(wantFirsts) {
		t.Errorf("first checkpointed step per stage in each run: %v, want %v (resumed after 13, 17, 5 and 6)", firsts, wantFirsts)
	}

	want, got := stageMetrics(t, filepath.Join(whole, "resume")), stageMetrics(t, filepath.Join(dir, "resume"))
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("metrics differ from an uninterrupted run:\nwant %d lines, got %d\nfirst want: %v\nfirst got:  %v", len(want), len(got), want[:min(5, len(want))], got[:min(5, len(got))])
	}
	if w, g := runWarnings(t, filepath.Join(whole, "resume")), runWarnings(t, filepath.Join(dir, "resume")); fmt.Sprint(w) != fmt.Sprint(g) {
		t.Errorf("manifest warnings differ:\nuninterrupted %q\nresumed       %q", w, g)
	}
	wa, ga := artefacts(t, whole), artefacts(t, dir)
	if len(wa) == 0 || len(wa) != len(ga) {
		t.Fatalf("artefacts: %d uninterrupted, %d resumed", len(wa), len(ga))
	}
	for p, b := range wa {
		if !bytes.Equal(b, ga[p]) {
			t.Errorf("%s differs from an uninterrupted run's", p)
		}
	}
}

// runWarnings reads the warnings of the run's manifest.
func runWarnings(t *testing.T, expDir string) []string {
	t.Helper()
	dirs := runDirs(t, expDir)
	var m results.Manifest
	if err := results.ReadJSON(filepath.Join(dirs[0], results.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	return m.Warnings
}

// undisturbedRun skips under -short, makes training stages checkpoint after
// every step, and runs file once without disturbance into a new directory,
// which it returns: the reference a disturbed run must equal.
func undisturbedRun(t *testing.T, file string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("trains; skipped with -short")
	}
	t.Setenv(checkpoint.EveryEnv, "1ns") // a checkpoint after every step
	whole := t.TempDir()
	if _, err := execute(t, context.Background(), file, whole, inProcessHost{}); err != nil {
		t.Fatal(err)
	}
	return whole
}
