package prefstage

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pit-lab/pit/core/checkpoint"
	"github.com/pit-lab/pit/core/runner"
)

// A preference pipeline killed in the middle of its training stages
// resumes from their checkpoints and ends with the same models, the same
// metrics and the same evaluation as a run that was never interrupted.
func TestPreferenceStagesResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the PIT pipeline three times; skipped with -short")
	}
	t.Setenv(checkpoint.EveryEnv, "1ns") // a checkpoint after every step
	data := t.TempDir()
	train, eval := filepath.Join(data, "train.jsonl"), filepath.Join(data, "eval.jsonl")
	writePairs(t, train, 300, 1, false)
	writePairs(t, eval, 200, 2, false)
	file := filepath.Join(data, "exp.toml")
	if err := os.WriteFile(file, fmt.Appendf(nil, pitFile, train, eval), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, dir string) error {
		_, plan := planPretrained(t, file)
		_, err := runner.Execute(ctx, plan, runner.Options{Dir: dir, Plugins: inProcessHost{}, CodeVersion: "test"})
		return err
	}
	whole := t.TempDir()
	if err := run(context.Background(), whole); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	defer func() { checkpoint.AfterCheckpoint = nil }()
	for _, stop := range []struct {
		stage string
		step  int
	}{{"pref_sft", 40}, {"pref_rm", 60}, {"pref_pit_rl", 10}, {"", 0}} {
		var once sync.Once
		ctx, cancel := context.WithCancel(context.Background())
		checkpoint.AfterCheckpoint = func(stage string, step int) {
			if stage == stop.stage && step == stop.step {
				once.Do(cancel)
			}
		}
		err := run(ctx, dir)
		cancel()
		switch {
		case stop.stage == "" && err != nil:
			t.Fatal(err)
		case stop.stage != "" && !errors.Is(err, runner.ErrInterrupted):
			t.Fatalf("stopping in %s after step %d: got %v, want an interrupted run", stop.stage, stop.step, err)
		}
	}
	want, got := sums(t, whole), sums(t, dir)
	if len(want) < 6 || strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("artefacts differ from an uninterrupted run:\nwant %s\ngot  %s", strings.Join(want, "\n     "), strings.Join(got, "\n     "))
	}
}

// sums lists the models and reports under root with their SHA-256 (the
// reports without their train_seconds, which is wall time).
func sums(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		switch name := de.Name(); {
		case name == ModelFile, name == EvalFile, name == RMFile, name == SFTFile, name == PITSFTFile:
			if strings.Contains(path, string(filepath.Separator)+".") && !strings.Contains(path, ".cache") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.HasSuffix(name, ".json") {
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					return err
				}
				delete(m, "train_seconds")
				b, _ = json.Marshal(m)
			}
			rel, _ := filepath.Rel(root, path)
			out = append(out, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
