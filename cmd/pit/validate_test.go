package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
)

// Schemas under names no real package uses, so the test can share
// experiment.DefaultRegistry with whatever the binary registers.
func init() {
	experiment.RegisterTask("validate-test-task", func() any {
		return &struct {
			Size int `toml:"size"`
		}{Size: 3}
	})
	experiment.RegisterStage("validate-test-stage", experiment.StageKind{New: func() any {
		return &struct {
			Steps int     `toml:"steps,required"`
			LR    float64 `toml:"lr"`
		}{LR: 0.1}
	}})
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	write := func(path, src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(good, `name = "good"
seeds = [1, 2]
[task]
kind = "validate-test-task"
[stages.train]
kind = "validate-test-stage"
steps = 5
[grid.axes.lr]
path = "stages.train.lr"
values = [0.1, 0.01]
`)
	write(bad, `name = "bad"
seeds = [1]
[task]
kind = "validate-test-task"
size = "big"
[stages.train]
kind = "validate-test-stage"
`)
	tests := []struct {
		args       []string
		code       int
		wantOut    []string
		wantStderr []string
	}{
		{[]string{"validate", good}, 0, []string{"OK " + good, "2 arm(s) x 2 seed(s) = 4 run(s)"}, nil},
		{[]string{"validate", "-plan", good}, 0, []string{"arm lr=0.01", "stages.train.lr: 0.1 → 0.01", "run lr=0.1/seed=2"}, nil},
		{[]string{"validate", good, bad}, 1, []string{"OK " + good}, []string{
			bad + `:5: task.size: expected an integer (got string "big")`,
			bad + ":6: stages.train.steps: missing required value (expected an integer)",
			bad + ": 2 problem(s)",
		}},
		{[]string{"validate", filepath.Join(dir, "missing.toml")}, 1, nil, []string{"no such file"}},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := realMain(tt.args, &out, &errOut)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, &out, &errOut)
		}
		for _, w := range tt.wantOut {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tt.args, w, &out)
			}
		}
		for _, w := range tt.wantStderr {
			if !strings.Contains(errOut.String(), w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, &errOut)
			}
		}
	}
}

// pit validate and pit run refuse the same files with the same messages:
// both call preflight after loading, so every file pit validate rejects,
// pit run (with or without --dry-run) rejects before any work, and prints
// the same problems.
func TestValidateRunParity(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "validate", "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var vOut, vErr bytes.Buffer
			if code := realMain([]string{"validate", file}, &vOut, &vErr); code != 1 {
				t.Fatalf("validate: exit %d, want 1", code)
			}
			for _, dry := range []bool{true, false} {
				out := t.TempDir()
				args := []string{"run", file, "--out", out, "--progress", "plain"}
				if dry {
					args = append(args, "--dry-run")
				}
				var rOut, rErr bytes.Buffer
				if code := realMain(args, &rOut, &rErr); code != 1 {
					t.Fatalf("%v: exit %d, want 1\nstderr:\n%s", args, code, &rErr)
				}
				vLines := strings.Split(strings.TrimSpace(vErr.String()), "\n")
				rLines := strings.Split(strings.TrimSpace(rErr.String()), "\n")
				if len(vLines) != len(rLines) || strings.Join(vLines[:len(vLines)-1], "\n") != strings.Join(rLines[:len(rLines)-1], "\n") {
					t.Errorf("%v printed\n%s\nvalidate printed\n%s", args, &rErr, &vErr)
				}
				if !strings.HasSuffix(rLines[len(rLines)-1], "; nothing was run") {
					t.Errorf("%v: last line %q", args, rLines[len(rLines)-1])
				}
				if entries, _ := os.ReadDir(out); len(entries) != 0 {
					t.Errorf("%v created %d entries under --out before refusing", args, len(entries))
				}
			}
		})
	}
}

// A model far too big for any machine is refused by pit validate with the
// estimate and a suggestion, instead of dying in the middle of a stage.
func TestValidateMemory(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("available memory is only known on Linux")
	}
	file := filepath.Join(t.TempDir(), "huge.toml")
	src := "name = \"huge\"\nseeds = [1]\n[task]\nkind = \"synthetic\"\n[model]\nd_model = 16384\nlayers = 96\nheads = 64\n[stages.data]\n[stages.sft]\nbatch_size = 32\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := realMain([]string{"validate", file}, &out, &errOut)
	want := file + ":10: stages.sft: needs about "
	if code != 1 || !strings.Contains(errOut.String(), want) || !strings.Contains(errOut.String(), "available (MemAvailable)") ||
		!strings.Contains(errOut.String(), "shrink [model]") {
		t.Errorf("exit %d, stderr:\n%s\nwant %q", code, &errOut, want)
	}
}

// pit run and pit validate with no file, in a directory without
// experiments.toml, say what they look for and suggest pit init.
func TestNoExperimentHint(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, cmd := range []string{"run", "validate"} {
		var out, errOut bytes.Buffer
		code := realMain([]string{cmd}, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "no experiment file given, and there is no experiments.toml in") ||
			!strings.Contains(errOut.String(), "pit init") {
			t.Errorf("pit %s: exit %d, stderr:\n%s", cmd, code, &errOut)
		}
	}
	var out, errOut bytes.Buffer
	if code := realMain([]string{"status"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "pit init") {
		t.Errorf("pit status: exit %d, stderr:\n%s", code, &errOut)
	}
}
