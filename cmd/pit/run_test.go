package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/core/runner/runnertest"
)

// These tests build the real pit binary with the test stages of
// core/runner/runnertest (-tags pittest) and run it as a separate process,
// so signals, kill -9 and resumption are exercised for real.

var (
	pitOnce sync.Once
	pitPath string
	pitErr  error
)

// buildPit builds pit with the test stages once per test binary.
func buildPit(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the pit binary; skipped with -short")
	}
	pitOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pit-runtest-")
		if err != nil {
			pitErr = err
			return
		}
		pitPath = filepath.Join(dir, "pit")
		cmd := exec.Command("go", "build", "-tags", "pittest", "-o", pitPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			pitErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if pitErr != nil {
		t.Fatal(pitErr)
	}
	return pitPath
}

// gridFile is an 8-run grid: 2 learning rates x 2 eval temperatures x 2
// seeds; test-gen is shared per seed, test-train per (seed, lr): 14
// distinct stage instances. Each training takes ~20 x delay.
func gridFile(t *testing.T, dir, delay string, extra string) string {
	t.Helper()
	src := fmt.Sprintf(`name = "grid"
seeds = [1, 2]
out = "results"

[task]
kind = "test-task"

[stages.test-gen]
points = 64

[stages.test-train]
steps = 20
step_delay = %q

[stages.test-eval]

[grid.axes.lr]
path = "stages.test-train.lr"
values = [0.3, 0.1]

[grid.axes.temp]
path = "stages.test-eval.temperature"
values = [0.4, 1.0]
%s`, delay, extra)
	path := filepath.Join(dir, "grid.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func pitCmd(bin, dir, markers string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), runnertest.MarkersEnv+"="+markers)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	return cmd, &out
}

// entries lists the committed cache entries: "stage/key" -> entry.json.
func entries(t *testing.T, cacheDir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	stages, _ := os.ReadDir(cacheDir)
	for _, s := range stages {
		keys, _ := os.ReadDir(filepath.Join(cacheDir, s.Name()))
		for _, k := range keys {
			if strings.HasPrefix(k.Name(), ".") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(cacheDir, s.Name(), k.Name(), cache.MetaFile))
			if err != nil {
				t.Fatalf("committed entry without meta: %v", err)
			}
			out[s.Name()+"/"+k.Name()] = string(b)
		}
	}
	return out
}

// running reports whether a test-train stage is being computed (its
// temporary directory exists).
func running(cacheDir string) bool {
	keys, _ := os.ReadDir(filepath.Join(cacheDir, "test-train"))
	for _, k := range keys {
		if strings.HasPrefix(k.Name(), ".tmp-") {
			return true
		}
	}
	return false
}

// markers maps "stage/key" to the pids that computed it, from the marker
// files "<stage>-<key>-<pid>".
func markers(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		i := strings.LastIndex(f.Name(), "-")
		j := strings.LastIndex(f.Name()[:i], "-")
		if i < 0 || j < 0 {
			t.Fatalf("bad marker %q", f.Name())
		}
		k := f.Name()[:j] + "/" + f.Name()[j+1:i]
		out[k] = append(out[k], f.Name()[i+1:])
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkComplete asserts that every run of the grid is done with complete,
// duplicate-free results.
func checkComplete(t *testing.T, expDir string) {
	t.Helper()
	states, err := results.ScanRuns(expDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 8 {
		t.Fatalf("%d runs on disk, want 8", len(states))
	}
	for _, s := range states {
		m := s.Manifest
		if m.Status != results.StatusDone || len(m.Stages) != 3 {
			t.Errorf("run %s: status %s, %d stages", m.Run, m.Status, len(m.Stages))
		}
		ms, err := results.ReadJSONL[results.Metric](filepath.Join(s.Dir, results.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, x := range ms {
			k := fmt.Sprint(x.Stage, "/", x.Step, "/", x.Name)
			if seen[k] {
				t.Errorf("run %s: metric %s twice", m.Run, k)
			}
			seen[k] = true
		}
		if len(ms) != 21 {
			t.Errorf("run %s: %d metrics, want 20 losses and a slope", m.Run, len(ms))
		}
		if len(ms) == 21 && !(ms[19].Value < ms[0].Value) {
			t.Errorf("run %s: loss did not fall: %v -> %v", m.Run, ms[0].Value, ms[19].Value)
		}
		rows, err := results.ReadJSONL[results.EvalRow](filepath.Join(s.Dir, results.EvalFile))
		if err != nil || len(rows) != 1 {
			t.Errorf("run %s: eval.jsonl %v %v", m.Run, rows, err)
		}
	}
}

// TestKill9ThenRerun kills pit run with SIGKILL mid-grid, runs the same
// command again, and checks that the grid completes without recomputing
// any stage the killed process had finished, and without losing or
// duplicating results.
func TestKill9ThenRerun(t *testing.T) {
	bin := buildPit(t)
	dir := t.TempDir()
	mk := filepath.Join(dir, "markers")
	os.Mkdir(mk, 0o755)
	gridFile(t, dir, "40ms", "")
	cacheDir := filepath.Join(dir, "results", "grid", runner.CacheDir)

	first, out1 := pitCmd(bin, dir, mk, "run", "grid.toml", "--jobs", "2")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill while at least one training is done and another one is running.
	waitFor(t, "a finished and a running training", 60*time.Second, func() bool {
		n := 0
		for k := range entries(t, cacheDir) {
			if strings.HasPrefix(k, "test-train/") {
				n++
			}
		}
		return n >= 1 && n < 4 && running(cacheDir)
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := first.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("first run was not killed: %v\n%s", err, out1)
	}
	firstPID := fmt.Sprint(first.Process.Pid)
	before := entries(t, cacheDir)
	if len(before) == 0 || len(before) >= 14 {
		t.Fatalf("killed run left %d entries; want a partial grid", len(before))
	}
	t.Logf("killed after %d of 14 stage instances", len(before))

	// pit status sees the killed runs as interrupted.
	st, stOut := pitCmd(bin, dir, mk, "status", "grid.toml")
	if err := st.Run(); err != nil {
		t.Fatalf("pit status: %v\n%s", err, stOut)
	}
	if !strings.Contains(stOut.String(), "is gone (killed?)") {
		t.Errorf("pit status does not report the killed run:\n%s", stOut)
	}

	second, out2 := pitCmd(bin, dir, mk, "run", "grid.toml", "--jobs", "2")
	if err := second.Run(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out2)
	}
	if !strings.Contains(out2.String(), "8 runs: 8 done, 0 failed") || !strings.Contains(out2.String(), "results: results/grid") {
		t.Errorf("rerun output:\n%s", out2)
	}
	secondPID := fmt.Sprint(second.Process.Pid)

	after := entries(t, cacheDir)
	if len(after) != 14 {
		t.Errorf("%d committed entries after the rerun, want 14", len(after))
	}
	for k, meta := range before {
		if after[k] != meta {
			t.Errorf("entry %s finished by the killed run was rewritten", k)
		}
	}
	marks := markers(t, mk)
	for k := range after {
		var firstN, secondN int
		for _, pid := range marks[k] {
			switch pid {
			case firstPID:
				firstN++
			case secondPID:
				secondN++
			default:
				t.Errorf("%s computed by unknown pid %s", k, pid)
			}
		}
		if _, done := before[k]; done {
			if firstN != 1 || secondN != 0 {
				t.Errorf("%s finished before the kill, but computed %d times before and %d after", k, firstN, secondN)
			}
		} else if secondN != 1 || firstN > 1 {
			// firstN may be 1 if the kill fell between the stage's end
			// and its commit.
			t.Errorf("%s: computed %d times by the rerun (want 1) and %d by the killed run", k, secondN, firstN)
		}
	}
	if len(marks) != 14 {
		t.Errorf("markers for %d stage instances, want 14", len(marks))
	}
	checkComplete(t, filepath.Join(dir, "results", "grid"))
	// Nothing is left half-written.
	filepath.WalkDir(filepath.Join(dir, "results"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})

	// A third run computes nothing.
	third, out3 := pitCmd(bin, dir, mk, "run", "grid.toml")
	if err := third.Run(); err != nil || !strings.Contains(out3.String(), "0 stages computed, 14 reused") {
		t.Errorf("third run: %v\n%s", err, out3)
	}
}

// TestInterruptThenRerun sends SIGINT: pit stops cleanly with exit code 130,
// marks unfinished runs interrupted, and the same command finishes the grid.
func TestInterruptThenRerun(t *testing.T) {
	bin := buildPit(t)
	dir := t.TempDir()
	mk := filepath.Join(dir, "markers")
	os.Mkdir(mk, 0o755)
	gridFile(t, dir, "50ms", "")
	cacheDir := filepath.Join(dir, "results", "grid", runner.CacheDir)

	cmd, out := pitCmd(bin, dir, mk, "run", "grid.toml")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a running training", 60*time.Second, func() bool { return running(cacheDir) })
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit after SIGINT: %v, want code 130\n%s", err, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to stop", d)
	}
	if !strings.Contains(out.String(), "interrupted: run the same command again") {
		t.Errorf("output:\n%s", out)
	}
	states, _ := results.ScanRuns(filepath.Join(dir, "results", "grid"))
	interrupted := 0
	for _, s := range states {
		if s.Manifest.Status == results.StatusInterrupted {
			interrupted++
			if s.Stale {
				t.Errorf("run %s interrupted cleanly but looks killed", s.Manifest.Run)
			}
		}
		if s.Manifest.Status == results.StatusRunning {
			t.Errorf("run %s still marked running after a clean stop", s.Manifest.Run)
		}
	}
	if interrupted == 0 {
		t.Error("no run marked interrupted")
	}
	if running(cacheDir) {
		t.Error("the interrupted stage's temporary directory was not removed")
	}

	again, out2 := pitCmd(bin, dir, mk, "run", "grid.toml")
	if err := again.Run(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out2)
	}
	checkComplete(t, filepath.Join(dir, "results", "grid"))
	for k, pids := range markers(t, mk) {
		if len(pids) != 1 {
			t.Errorf("%s computed %d times", k, len(pids))
		}
	}
}

// TestFailedRunDoesNotStopGrid: one arm fails; the others finish, pit exits
// 1, and both the manifest and pit status say why.
func TestFailedRunDoesNotStopGrid(t *testing.T) {
	bin := buildPit(t)
	dir := t.TempDir()
	mk := filepath.Join(dir, "markers")
	os.Mkdir(mk, 0o755)
	gridFile(t, dir, "0s", `
[grid.axes.fail]
path = "stages.test-train.fail_at"
values = [0, 5]
`)
	cmd, out := pitCmd(bin, dir, mk, "run", "grid.toml", "--jobs", "2", "--out", "elsewhere")
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want code 1\n%s", err, out)
	}
	if !strings.Contains(out.String(), "16 runs: 8 done, 8 failed") || !strings.Contains(out.String(), "results: elsewhere/grid") {
		t.Errorf("output:\n%s", out)
	}
	states, err := results.ScanRuns(filepath.Join(dir, "elsewhere", "grid"))
	if err != nil || len(states) != 16 {
		t.Fatalf("%d runs, %v", len(states), err)
	}
	for _, s := range states {
		m := s.Manifest
		failing := m.Factors["fail"] == int64(5) || m.Factors["fail"] == float64(5)
		switch {
		case failing && (m.Status != results.StatusFailed || !strings.Contains(m.Error, "failing at step 5")):
			t.Errorf("run %s: status %s error %q", m.Run, m.Status, m.Error)
		case !failing && m.Status != results.StatusDone:
			t.Errorf("run %s: status %s error %q", m.Run, m.Status, m.Error)
		}
	}
	st, stOut := pitCmd(bin, dir, mk, "status", "elsewhere/grid")
	if err := st.Run(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stOut.String(), "16 runs: 8 done, 8 failed") || !strings.Contains(stOut.String(), "stage test-train: failing at step 5 as configured") {
		t.Errorf("pit status:\n%s", stOut)
	}
}

// The manifest records provenance, and declared figures are drawn.
func TestManifestProvenance(t *testing.T) {
	bin := buildPit(t)
	dir := t.TempDir()
	gridFile(t, dir, "0s", "\n[[plot]]\nkind = \"curve\"\nmetric = \"loss\"\n")
	cmd, out := pitCmd(bin, dir, "", "run", "grid.toml")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// A dry run now finds every stage in the cache.
	dry, dryOut := pitCmd(bin, dir, "", "run", "--dry-run", "grid.toml")
	if err := dry.Run(); err != nil || !strings.Contains(dryOut.String(), "14 distinct stage instances: 14 in the cache, 0 to compute") {
		t.Errorf("dry run: %v\n%s", err, dryOut)
	}
	// The declared figure is drawn at the end.
	if !strings.Contains(out.String(), "figure: results/grid/figures/curve-loss.png") {
		t.Errorf("no figure reported:\n%s", out)
	}
	if st, err := os.Stat(filepath.Join(dir, "results", "grid", "figures", "curve-loss.png")); err != nil || st.Size() == 0 {
		t.Errorf("figure: %v", err)
	}
	var m results.Manifest
	b, err := os.ReadFile(filepath.Join(dir, "results", "grid", "lr=0.3,temp=0.4", "seed=1", results.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.CodeVersion, "exe-sha256:") || !strings.HasPrefix(m.GoVersion, "go1.") || !m.Baseline || m.Seed != 1 ||
		m.Started.IsZero() || m.Finished.Before(m.Started) || m.Status != results.StatusDone {
		t.Errorf("manifest: %+v", m)
	}
	for _, s := range m.Stages {
		if s.Key == "" || s.Seconds <= 0 {
			t.Errorf("stage record %+v", s)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "results", "grid", "lr=0.3,temp=0.4", "seed=1", results.ConfigFile))
	if err != nil || !regexp.MustCompile(`(?m)^seeds? = \[?1\]?$`).Match(cfg) || !bytes.Contains(cfg, []byte("lr = 0.3")) {
		t.Errorf("config.toml: %v\n%s", err, cfg)
	}
}

// Plugin processes do not outlive pit: not after SIGINT (pit kills them)
// and not after SIGKILL (they watch their parent).
func TestPluginsDieWithPit(t *testing.T) {
	bin := buildPit(t)
	if out, _ := exec.Command(bin, "plugin", "serve").CombinedOutput(); strings.Contains(string(out), `unknown command "plugin"`) {
		t.Skip("this pit has no plugin serve command yet (cmd/pit/plugin.go)")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			mk := filepath.Join(dir, "markers")
			os.Mkdir(mk, 0o755)
			src := "name = \"plug\"\nseeds = [1]\n[task]\nkind = \"test-task\"\n[stages.test-plugin]\nhold = \"60s\"\nreward = \"bradley-terry\"\n"
			if err := os.WriteFile(filepath.Join(dir, "plug.toml"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd, out := pitCmd(bin, dir, mk, "run", "plug.toml")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			var pid int
			waitFor(t, "the plugin to start", 60*time.Second, func() bool {
				files, _ := os.ReadDir(mk)
				for _, f := range files {
					if n, ok := strings.CutPrefix(f.Name(), "plugin-"); ok {
						fmt.Sscan(n, &pid)
						return true
					}
				}
				select {
				case <-exited:
					t.Fatalf("pit exited before its plugin started:\n%s", out)
				default:
				}
				return false
			})
			if pid == 0 || pid == cmd.Process.Pid {
				t.Fatalf("plugin pid %d (pit %d)\n%s", pid, cmd.Process.Pid, out)
			}
			cmd.Process.Signal(sig)
			<-exited
			// The plugin is gone (a zombie counts as gone: its parent is dead
			// or reaps it).
			waitFor(t, "the plugin process to exit", 15*time.Second, func() bool {
				b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
				return err != nil || strings.Contains(string(b), ") Z ")
			})
			if sig == syscall.SIGINT {
				var m results.Manifest
				if err := results.ReadJSON(filepath.Join(dir, "results", "plug", "seed=1", results.ManifestFile), &m); err != nil {
					t.Fatal(err)
				}
				if m.Status != results.StatusInterrupted {
					t.Errorf("status %s after SIGINT\n%s", m.Status, out)
				}
			}
		})
	}
}
