package pipeline

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
)

// TestEndToEnd builds the pit binary and runs the whole pipeline at a tiny
// size through `pit run`, so every plugin (bradley-terry, pit-gap, rloo,
// two-round) runs in its own process, and checks that learning happened.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pit and trains every stage; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "pit")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/pit")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "results")
	cmd := exec.CommandContext(ctx, bin, "run", "testdata/tiny.toml", "--out", out, "--progress", "plain", "--cache", filepath.Join(out, ".cache"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("pit run took %s\nstdout:\n%s", time.Since(start).Round(time.Millisecond), stdout.String())
	if err != nil {
		t.Fatalf("pit run: %v\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 done, 0 failed") {
		t.Fatalf("pit run did not finish its run:\n%s\n%s", stdout.String(), stderr.String())
	}
	// The eval table is printed at the end.
	if !strings.Contains(stdout.String(), "best-of-n") {
		t.Errorf("pit run did not print the eval table")
	}
	expDir := filepath.Join(out, "tiny")
	checkLearning(t, expDir)

	// The plugins really ran out of process: the manifest names them with
	// the checksum of the binary that served them.
	var m results.Manifest
	if err := results.ReadJSON(filepath.Join(runDirs(t, expDir)[0], results.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(bin)
	if err != nil || len(sum) == 0 {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range m.Plugins {
		names[p.Kind+"/"+p.Name] = true
		if p.SHA256 == "" || p.SHA256 == "in-process" {
			t.Errorf("plugin %s/%s has checksum %q", p.Kind, p.Name, p.SHA256)
		}
	}
	for _, want := range []string{"reward/bradley-terry", "reward/pit-gap", "algorithm/rloo", "curriculum/two-round"} {
		if !names[want] {
			t.Errorf("manifest lists no plugin %s (has %v)", want, names)
		}
	}
}
