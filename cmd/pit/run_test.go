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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// These tests build the real pit binary with the test stages of
// core/runner/runnertest (-tags pittest) and run it as a separate process,
// so signals, kill -9 and resumption are exercised for real.

// markersEnv is runnertest.MarkersEnv. The test does not import runnertest:
// that would register the test stages in this test binary too, where other
// tests of pit list the stage kinds.
const markersEnv = "PIT_TEST_MARKERS"

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
	cmd.Env = append(os.Environ(), markersEnv+"="+markers, runner.CacheEnv+"="+testCache(dir, args))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	return cmd, &out
}

// testCache is the default stage cache of a pit process that pitCmd starts
// in dir with args: <out>/.cache of its results root (--out, default
// "results"), so the test's grids never touch the user's cache and
// grids of different results roots are computed apart.
func testCache(dir string, args []string) string {
	out := "results"
	for i, a := range args {
		if a == "--out" && i+1 < len(args) {
			out = args[i+1]
		}
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(dir, out)
	}
	return filepath.Join(out, runner.CacheDir)
}

// entries lists the committed cache entries: "stage/key" -> entry.json.
func entries(t *testing.T, cacheDir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	stages, _ := os.ReadDir(cacheDir)
	for _, s := range stages {
		if strings.HasPrefix(s.Name(), ".") {
			continue // .locks
		}
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

// running reports whether process pid is computing a test-train stage (its
// temporary directory ".tmp-<key>-<pid>-<n>" exists).
func running(cacheDir string, pid int) bool {
	keys, _ := os.ReadDir(filepath.Join(cacheDir, "test-train"))
	for _, k := range keys {
		if strings.HasPrefix(k.Name(), ".tmp-") && strings.Contains(k.Name(), fmt.Sprintf("-%d-", pid)) {
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

// TestKill9ThenRerun kills pit run with SIGKILL mid-grid, twice, at
// different points, then runs the same command to the end. It checks that
// the grid completes, that no process computed a stage whose artefacts were
// already committed when it started, that committed artefacts are never
// rewritten, and that no result is lost or duplicated.
func TestKill9ThenRerun(t *testing.T) {
	bin := buildPit(t)
	dir := t.TempDir()
	mk := filepath.Join(dir, "markers")
	os.Mkdir(mk, 0o755)
	gridFile(t, dir, "40ms", "")
	cacheDir := testCache(dir, nil) // shared by the experiments pitCmd runs
	countTrain := func() int {
		n := 0
		for k := range entries(t, cacheDir) {
			if strings.HasPrefix(k, "test-train/") {
				n++
			}
		}
		return n
	}

	// committedAtStart records, per pit process, the entries that existed
	// when it started: it must not compute any of them.
	committedAtStart := map[string]map[string]string{}
	var killed []string
	for i := 0; i < 2; i++ {
		start := entries(t, cacheDir)
		cmd, out := pitCmd(bin, dir, mk, "run", "grid.toml", "--jobs", "2")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := fmt.Sprint(cmd.Process.Pid)
		committedAtStart[pid] = start
		// First kill while a training is done and another one is running;
		// the second as soon as the grid has moved on, before it is done.
		waitFor(t, fmt.Sprintf("kill point %d", i), 60*time.Second, func() bool {
			if i == 0 {
				return countTrain() >= 1 && countTrain() < 4 && running(cacheDir, cmd.Process.Pid)
			}
			n := len(entries(t, cacheDir))
			return n > len(start) && n < 14
		})
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("run %d was not killed: %v\n%s", i, err, out)
		}
		killed = append(killed, pid)
		now := entries(t, cacheDir)
		for k, meta := range start {
			if now[k] != meta {
				t.Errorf("entry %s committed before run %d was rewritten by it", k, i)
			}
		}
		t.Logf("kill %d: %d of 14 stage instances committed", i, len(now))
	}
	if n := len(entries(t, cacheDir)); n >= 14 {
		t.Fatalf("the grid finished before the last kill (%d entries); the test needs a partial grid", n)
	}

	// pit status sees the killed runs as interrupted.
	st, stOut := pitCmd(bin, dir, mk, "status", "grid.toml")
	if err := st.Run(); err != nil {
		t.Fatalf("pit status: %v\n%s", err, stOut)
	}
	if !strings.Contains(stOut.String(), "is gone (killed?)") {
		t.Errorf("pit status does not report the killed run:\n%s", stOut)
	}

	before := entries(t, cacheDir)
	last, out := pitCmd(bin, dir, mk, "run", "grid.toml", "--jobs", "2")
	if err := last.Run(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "8 runs: 8 done, 0 failed") || !strings.Contains(out.String(), "results: results/grid") {
		t.Errorf("rerun output:\n%s", out)
	}
	committedAtStart[fmt.Sprint(last.Process.Pid)] = before

	after := entries(t, cacheDir)
	if len(after) != 14 {
		t.Errorf("%d committed entries after the rerun, want 14", len(after))
	}
	for k, meta := range before {
		if after[k] != meta {
			t.Errorf("entry %s committed before the rerun was rewritten", k)
		}
	}
	marks := markers(t, mk)
	if len(marks) != 14 {
		t.Errorf("markers for %d stage instances, want 14", len(marks))
	}
	for k, meta := range after {
		var m cache.Meta
		if err := json.Unmarshal([]byte(meta), &m); err != nil {
			t.Fatal(err)
		}
		committer := fmt.Sprint(m.PID)
		found := false
		for _, pid := range marks[k] {
			start, known := committedAtStart[pid]
			if !known {
				t.Errorf("%s computed by unknown pid %s", k, pid)
				continue
			}
			if _, done := start[k]; done {
				t.Errorf("%s was committed when pid %s started, yet it computed it again", k, pid)
			}
			if pid == committer {
				found = true
			} else if !slices.Contains(killed, pid) {
				// Only a killed process may have computed a stage it did not
				// commit (killed between the stage's end and its commit).
				t.Errorf("%s computed by %s but committed by %s", k, pid, committer)
			}
		}
		if !found {
			t.Errorf("%s: committed by pid %s, which left no marker (%v)", k, committer, marks[k])
		}
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
	cacheDir := testCache(dir, nil) // shared by the experiments pitCmd runs

	cmd, out := pitCmd(bin, dir, mk, "run", "grid.toml")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a running training", 60*time.Second, func() bool { return running(cacheDir, cmd.Process.Pid) })
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit after SIGINT: %v, want code 130\n%s", err, out)
	}
	if d := time.Since(start); d > 15*time.Second {
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
	if running(cacheDir, cmd.Process.Pid) {
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
	// A pinned code version is another key: nothing is in the cache for it.
	pinned, pinnedOut := pitCmd(bin, dir, "", "run", "--dry-run", "--code-version", "v1", "grid.toml")
	if err := pinned.Run(); err != nil || !strings.Contains(pinnedOut.String(), "14 distinct stage instances: 0 in the cache, 14 to compute") {
		t.Errorf("dry run with a pinned code version: %v\n%s", err, pinnedOut)
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
	if !strings.Contains(m.CodeVersion, "-sha256:") || !strings.HasPrefix(m.GoVersion, "go1.") || !m.Baseline || m.Seed != 1 ||
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

// Plugin processes do not outlive pit: not after SIGINT or SIGTERM (pit
// kills them and marks the run interrupted) and not after SIGKILL (they
// watch their parent).
func TestPluginsDieWithPit(t *testing.T) {
	bin := buildPit(t)
	if out, _ := exec.Command(bin, "plugin", "serve").CombinedOutput(); strings.Contains(string(out), `unknown command "plugin"`) {
		t.Skip("this pit has no plugin serve command yet (cmd/pit/plugin.go)")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
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
			if sig != syscall.SIGKILL {
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

// TestCodeVersionSameForRunAndBuild: go run and go build of one tree name
// the same code version (so switching between them reuses the cache), and
// it is the source tree's, not the executable's.
func TestCodeVersionSameForRunAndBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pit twice; skipped with -short")
	}
	line := func(out []byte) string {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "code version") {
				return l
			}
		}
		return ""
	}
	// A link flag no earlier build used: Go caches go run's executables,
	// and one cached before a fresh checkout is older than the checkout's
	// files, which sends pit (rightly: it cannot tell) to the executable's
	// hash. Both builds take the same flag, which enters the version.
	ldflags := fmt.Sprintf("-ldflags=-X=main.testNonce=%d", time.Now().UnixNano())
	bin := filepath.Join(t.TempDir(), "pit")
	if out, err := exec.Command("go", "build", ldflags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	built, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("pit version: %v\n%s", err, built)
	}
	ran, err := exec.Command("go", "run", ldflags, ".", "version").CombinedOutput()
	if err != nil {
		t.Fatalf("go run . version: %v\n%s", err, ran)
	}
	if line(built) == "" || line(built) != line(ran) || !strings.Contains(line(built), "src-sha256:") {
		t.Errorf("code versions differ or are not the source's:\n go build: %s\n go run:   %s", line(built), line(ran))
	}
}

// TestExperimentsShareTheCache: a second experiment under the same results
// root reuses the stages it has in common with the first (the dry-run says
// so), and --cache moves the cache elsewhere; two pit processes running
// both at once compute each shared stage once.
func TestExperimentsShareTheCache(t *testing.T) {
	bin := buildPit(t)
	dir := t.TempDir()
	mk := filepath.Join(dir, "markers")
	os.Mkdir(mk, 0o755)
	grid := gridFile(t, dir, "0s", "")
	b, _ := os.ReadFile(grid)
	// The same grid under another name, with one more eval temperature.
	other := strings.Replace(strings.Replace(string(b), `name = "grid"`, `name = "other"`, 1), "values = [0.4, 1.0]", "values = [0.4, 1.0, 0.7]", 1)
	if err := os.WriteFile(filepath.Join(dir, "other.toml"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, out := pitCmd(bin, dir, mk, "run", "grid.toml", "--code-version", "test")
	if err := cmd.Run(); err != nil {
		t.Fatalf("pit run grid: %v\n%s", err, out)
	}
	cmd, out = pitCmd(bin, dir, mk, "run", "--dry-run", "other.toml", "--code-version", "test")
	if err := cmd.Run(); err != nil {
		t.Fatalf("dry-run: %v\n%s", err, out)
	}
	// 2 gen + 4 train + 12 eval instances; gen, train and the 8 evals at
	// the first two temperatures are grid's.
	if !strings.Contains(out.String(), "18 distinct stage instances: 14 in the cache, 4 to compute") {
		t.Errorf("the second experiment does not reuse the first's stages:\n%s", out)
	}
	// --cache elsewhere: nothing there yet.
	cmd, out = pitCmd(bin, dir, mk, "run", "--dry-run", "other.toml", "--code-version", "test", "--cache", filepath.Join(dir, "elsewhere"))
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "0 in the cache, 18 to compute") || !strings.Contains(out.String(), "stage cache: "+filepath.Join(dir, "elsewhere")) {
		t.Errorf("--cache: %v\n%s", err, out)
	}
	// Two processes at once on a fresh cache: each instance computed once.
	cache2 := filepath.Join(dir, "shared")
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, f := range []string{"grid.toml", "other.toml"} {
		c, o := pitCmd(bin, dir, mk, "run", f, "--code-version", "test2", "--cache", cache2, "--out", filepath.Join(dir, "r2"), "--jobs", "2")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, c), append(outs, o)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("concurrent run %d: %v\n%s", i, err, outs[i])
		}
	}
	if n := len(entries(t, cache2)); n != 18 {
		t.Errorf("shared cache holds %d entries, want the 18 distinct instances", n)
	}
	computed := 0
	re := regexp.MustCompile(`(\d+) stages computed`)
	for _, o := range outs {
		m := re.FindStringSubmatch(o.String())
		if m == nil {
			t.Fatalf("no summary line:\n%s", o)
		}
		n, _ := strconv.Atoi(m[1])
		computed += n
	}
	if computed != 18 {
		t.Errorf("the two processes computed %d stages between them, want each of the 18 once:\n%s\n%s", computed, outs[0], outs[1])
	}
}
