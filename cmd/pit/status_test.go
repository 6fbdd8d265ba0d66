package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
)

// A manifest cut short (a full disk, an interrupted copy) is an error with
// its path and a non-zero exit, not a run "not started".
func TestStatusUnreadableManifest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "exp.toml")
	src := "name = \"trunc\"\nseeds = [1]\nout = \"" + filepath.Join(dir, "results") + "\"\n[task]\nkind = \"validate-test-task\"\n[stages.train]\nkind = \"validate-test-stage\"\nsteps = 1\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "results", "trunc", "seed=1")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(run, "manifest.json")
	if err := os.WriteFile(manifest, []byte(`{"experiment": "trunc", "run": "seed=1", "sta`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{file, filepath.Join(dir, "results", "trunc")} {
		var out, errOut bytes.Buffer
		code := realMain([]string{"status", target}, &out, &errOut)
		if code != 1 {
			t.Errorf("pit status %s: exit %d, want 1", target, code)
		}
		if !strings.Contains(errOut.String(), manifest+": unreadable run manifest") {
			t.Errorf("pit status %s: stderr lacks the manifest's path:\n%s", target, &errOut)
		}
		if strings.Contains(out.String(), "not started") {
			t.Errorf("pit status %s: reports the run as not started:\n%s", target, &out)
		}
	}
}

// --stages lists each run's stages with their compute time.
func TestStatusStages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "exp")
	m := results.Manifest{Experiment: "exp", Run: "seed=1", Status: results.StatusDone, Stages: []results.StageRecord{
		{Name: "data", Status: results.StatusDone, Seconds: 0.12, Cached: true},
		{Name: "pit_rm", Status: results.StatusDone, Seconds: 8.84},
	}}
	if err := os.MkdirAll(filepath.Join(dir, "seed=1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteJSON(filepath.Join(dir, "seed=1", results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want bool
	}{{[]string{"status", dir}, false}, {[]string{"status", "--stages", dir}, true}, {[]string{"status", dir, "--stages"}, true}} {
		var out, errOut bytes.Buffer
		if code := realMain(tc.args, &out, &errOut); code != 0 {
			t.Fatalf("pit %v: exit %d\n%s", tc.args, code, &errOut)
		}
		lines := strings.Split(out.String(), "\n")
		has := slices.ContainsFunc(lines, func(l string) bool { return strings.Join(strings.Fields(l), " ") == "pit_rm done 8.8" })
		reused := strings.Contains(out.String(), "done, reused  0.1")
		if has != tc.want || reused != tc.want {
			t.Errorf("pit %v: stage lines %v (reused %v), want %v:\n%s", tc.args, has, reused, tc.want, &out)
		}
	}
}
