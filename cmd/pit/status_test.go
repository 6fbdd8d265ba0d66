package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
