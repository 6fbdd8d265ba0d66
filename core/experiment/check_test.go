package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A grid of 10^4 arms × 1000 seeds (10^7 runs) was accepted after minutes
// and gigabytes; the cap counts runs and is checked from the axes' sizes,
// so the file is refused at once, without building an arm.
func TestHugeGridRefusedFast(t *testing.T) {
	var b strings.Builder
	b.WriteString("name = \"huge\"\nseeds = [")
	for i := 1; i <= 1000; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, i)
	}
	b.WriteString("]\n[task]\nkind = \"synthetic\"\n[stages.sft]\nsteps = 10\n")
	for _, axis := range []string{"steps", "lr"} {
		fmt.Fprintf(&b, "[grid.axes.%s]\npath = \"stages.sft.%s\"\nvalues = [", axis, axis)
		for i := 1; i <= 100; i++ {
			if i > 1 {
				b.WriteString(", ")
			}
			if axis == "lr" {
				fmt.Fprintf(&b, "%g", float64(i)/1e4)
			} else {
				fmt.Fprint(&b, i)
			}
		}
		b.WriteString("]\n")
	}
	r, _ := newTestRegistry()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := r.Parse(context.Background(), "huge.toml", []byte(b.String()))
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || !strings.Contains(list[0].Msg, "at most 10000 runs") || !strings.Contains(list[0].Msg, "10000 arm(s) × 1000 seed(s)") {
		t.Fatalf("err = %v, want one error about the run cap", err)
	}
	// Generous bounds for a loaded machine; the old code took 136 s and
	// 2.2 GB.
	if elapsed > 2*time.Second {
		t.Errorf("refusing took %v, want well under a second", elapsed)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("refusing allocated %d MiB, want a few", alloc>>20)
	}
}

// Preflight reports a path the results directory's file system cannot
// hold, whatever part of it is too long.
func TestPreflightPaths(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name, src, out string
		tables         string
		want           string // substring of the one error; "" for none
	}{
		{"ok", "name = \"short\"\n", "", "", ""},
		{"long name", "name = \"" + long + "\"\n", "", "", "f.toml:1: name: 300 bytes long"},
		{"long stage", "name = \"s\"\n", "", "[stages." + long + "]\nkind = \"sft\"\nsteps = 1\n", "stages." + long + ": stage name is 300 bytes long"},
		{"long out", "name = \"s\"\nout = \"" + long + "\"\n", long, "", "f.toml:2: out: the results directory"},
		{"deep out", "name = \"s\"\nout = \"deep\"\n", strings.Repeat(strings.Repeat("d", 200)+"/", 21), "", "PATH_MAX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src + "seeds = [1]\n[task]\nkind = \"synthetic\"\n[stages.sft]\nsteps = 1\n" + tt.tables
			r, _ := newTestRegistry()
			exp, err := r.Parse(context.Background(), "f.toml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			env := CheckEnv{ResultsDir: filepath.Join(dir, tt.out, exp.Name)}
			err = r.Preflight(context.Background(), exp, env)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected: %v", err)
			case tt.want == "":
				if err := os.MkdirAll(env.ResultsDir, 0o755); err != nil {
					t.Fatalf("accepted, but cannot be created: %v", err)
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("err = %v, want %q", err, tt.want)
			default:
				// What Preflight refused, the file system refuses too.
				if err := os.MkdirAll(filepath.Join(env.ResultsDir, ".cache", "sft"), 0o755); err == nil && !strings.Contains(tt.want, "stage") {
					t.Errorf("refused, but %s can be created", env.ResultsDir)
				}
			}
		})
	}
}

// Each check runs on every arm, and a problem of some arms names them.
func TestPreflightArmNote(t *testing.T) {
	r, _ := newTestRegistry()
	src := `name = "g"
seeds = [1]
[task]
kind = "synthetic"
[stages.sft]
steps = 1
[stages.rm]
steps = 1
reward = "rubric"
[stages.pit_rl]
steps = 1
reward = "rubric"
[grid.axes.r]
path = "stages.rm.reward"
values = ["rubric", "pit-gap", "bradley-terry"]
`
	exp, err := r.Parse(context.Background(), "g.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	err = r.Preflight(context.Background(), exp, CheckEnv{})
	want := "g.toml:12: stages.pit_rl.reward: reward plugin rubric cannot score with the model rm trained with bradley-terry (in arm r=bradley-terry); give both stages the same reward plugin\n" +
		"g.toml:12: stages.pit_rl.reward: reward plugin rubric cannot score with the model rm trained with pit-gap (in arm r=pit-gap); give both stages the same reward plugin"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

// TestPathLengthsCountTheCache: the deepest paths a run makes are
// checkpoints in the stage cache, wherever CacheDir puts it.
func TestPathLengthsCountTheCache(t *testing.T) {
	src := "name = \"s\"\nseeds = [1]\n[task]\nkind = \"synthetic\"\n[stages.sft]\nsteps = 1\n"
	r, _ := newTestRegistry()
	exp, err := r.Parse(context.Background(), "f.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := CheckEnv{ResultsDir: filepath.Join(dir, "results", exp.Name)}
	if err := r.Preflight(context.Background(), exp, env); err != nil {
		t.Fatalf("short paths: %v", err)
	}
	env.CacheDir = filepath.Join(dir, strings.Repeat(strings.Repeat("c", 200)+"/", 21))
	if err := r.Preflight(context.Background(), exp, env); err == nil || !strings.Contains(err.Error(), "checkpoints of stage sft") {
		t.Errorf("a cache too deep for PATH_MAX: %v", err)
	}
}
