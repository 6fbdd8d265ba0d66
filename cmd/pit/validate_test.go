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
