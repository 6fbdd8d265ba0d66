package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/checkpoint"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/runner"
)

// flip inverts one byte in the middle of a file.
func flip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptionRecovers flips a byte in sft's latest mid-stage checkpoint
// and, after the run finished, in sft's committed model.bin; each time the
// rerun notices (a warning naming the file, the bad copy moved into a
// quarantine directory, never deleted), goes back to the checkpoint before
// (or recomputes the stage), and ends with the models, reward files and
// metrics of an undisturbed run.
func TestCorruptionRecovers(t *testing.T) {
	const file = "testdata/resume.toml"
	whole := undisturbedRun(t, file)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { checkpoint.AfterCheckpoint = nil }()
	checkpoint.AfterCheckpoint = func(stage string, step int) {
		if stage == "sft" && step == 13 {
			cancel()
		}
	}
	if _, err := execute(t, ctx, file, dir, inProcessHost{}); !errors.Is(err, runner.ErrInterrupted) {
		t.Fatalf("stopping sft after step 13: %v", err)
	}
	cancel()
	checkpoint.AfterCheckpoint = nil
	cacheDir := filepath.Join(dir, "resume", runner.CacheDir)
	scratch, _ := filepath.Glob(filepath.Join(cacheDir, "sft", ".scratch-*"))
	if len(scratch) != 1 {
		t.Fatalf("sft checkpoint directories: %v", scratch)
	}
	flip(t, filepath.Join(scratch[0], "trainer-13.bin"))

	if _, err := execute(t, context.Background(), file, dir, inProcessHost{}); err != nil {
		t.Fatal(err)
	}
	warned := func(what string) {
		t.Helper()
		for _, w := range runWarnings(t, filepath.Join(dir, "resume")) {
			if strings.Contains(w, what) {
				return
			}
		}
		t.Errorf("no manifest warning mentions %q: %q", what, runWarnings(t, filepath.Join(dir, "resume")))
	}
	warned("trainer-13.bin does not match its SHA-256")
	if q, _ := filepath.Glob(filepath.Join(cacheDir, "sft", cache.QuarantineDir, "*", "trainer-13.bin")); len(q) != 1 {
		t.Errorf("the bad checkpoint was not kept in quarantine: %v", q)
	}
	same := func(when string) {
		t.Helper()
		want, got := stageMetrics(t, filepath.Join(whole, "resume")), stageMetrics(t, filepath.Join(dir, "resume"))
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s: metrics differ from an undisturbed run's (%d vs %d lines)", when, len(want), len(got))
		}
		wa, ga := artefacts(t, whole), artefacts(t, dir)
		if len(wa) == 0 || len(wa) != len(ga) {
			t.Fatalf("%s: artefacts: %d undisturbed, %d here", when, len(wa), len(ga))
		}
		for p, b := range wa {
			if !bytes.Equal(b, ga[p]) {
				t.Errorf("%s: %s differs from an undisturbed run's", when, p)
			}
		}
	}
	same("after a corrupt checkpoint")

	// A finished artefact.
	models, _ := filepath.Glob(filepath.Join(cacheDir, "sft", "*", modelFile))
	if len(models) != 1 {
		t.Fatalf("sft models: %v", models)
	}
	flip(t, models[0])
	if _, err := execute(t, context.Background(), file, dir, inProcessHost{}); err != nil {
		t.Fatal(err)
	}
	warned("model.bin has another SHA-256")
	if q, _ := filepath.Glob(filepath.Join(cacheDir, "sft", cache.QuarantineDir, "*", "REASON")); len(q) != 2 {
		t.Errorf("quarantine holds %d entries with a REASON, want the checkpoint and the entry", len(q))
	}
	if err := cache.VerifyDir(filepath.Dir(models[0])); err != nil {
		t.Errorf("the recomputed entry: %v", err)
	}
	same("after a corrupt model.bin")
}
