package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// The Slurm executor's integration test runs the real pit binary against a
// real single-node Slurm cluster on localhost (scripts/slurm/cluster.sh),
// which it installs with apt-get when missing and always stops.

const clusterScript = "../../scripts/slurm/cluster.sh"

// startSlurm starts a cluster for the test and returns its SLURM_CONF
// setting. It skips the test when that is impossible (not root, no
// packages), except under CI=true, where it fails.
func startSlurm(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Slurm cluster; skipped with -short")
	}
	ci := os.Getenv("CI") == "true"
	skip := func(format string, args ...any) {
		t.Helper()
		if ci {
			t.Fatalf("CI=true, so this test must run, but: "+format, args...)
		}
		t.Skipf("skipping the Slurm integration test: "+format, args...)
	}
	if os.Geteuid() != 0 {
		skip("it starts slurmctld, slurmd and munged, which needs root (run as root or in CI)")
	}
	if out, err := exec.Command(clusterScript, "install").CombinedOutput(); err != nil {
		skip("cannot install Slurm (%v): %s", err, out)
	}
	dir := t.TempDir()
	// Ports of its own, so a cluster someone runs on this machine is left
	// alone.
	cmd := exec.Command(clusterScript, "start", dir)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PIT_SLURM_PORT_OFFSET=%d", 1+os.Getpid()%100))
	out, err := cmd.CombinedOutput()
	// Stop it whatever happens next (t.Cleanup also runs after t.Fatal).
	t.Cleanup(func() {
		if out, err := exec.Command(clusterScript, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("stopping Slurm: %v\n%s", err, out)
		}
	})
	if err != nil {
		t.Fatalf("starting Slurm: %v\n%s", err, out)
	}
	return "SLURM_CONF=" + filepath.Join(dir, "slurm.conf")
}

// slurmPit runs pit with the cluster's configuration and returns its
// output; it fails the test if pit exits with an error and ok is set.
func slurmPit(t *testing.T, bin, dir, markers, conf string, ok bool, args ...string) string {
	t.Helper()
	cmd, out := pitCmd(bin, dir, markers, args...)
	cmd.Env = append(cmd.Env, conf)
	err := cmd.Run()
	if ok && err != nil {
		t.Fatalf("pit %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out.String()
}

// runResults is what a run's results must match between executors: its
// stages' keys and reuse, metrics without wall-clock times, eval rows.
func runResults(t *testing.T, expDir string) map[string]string {
	t.Helper()
	states, err := results.ScanRuns(expDir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range states {
		m := s.Manifest
		var b strings.Builder
		fmt.Fprintf(&b, "status %s\n", m.Status)
		for _, st := range m.Stages {
			fmt.Fprintf(&b, "stage %s %s %s cached=%v\n", st.Name, st.Key, st.Status, st.Cached)
		}
		ms, err := results.ReadJSONL[results.Metric](filepath.Join(s.Dir, results.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ms {
			x.Elapse = 0
			j, _ := json.Marshal(x)
			fmt.Fprintf(&b, "%s\n", j)
		}
		ev, err := os.ReadFile(filepath.Join(s.Dir, results.EvalFile))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(ev)
		out[m.Run] = b.String()
	}
	return out
}

// readRecord reads the Slurm job record of (stage, key).
func readRecord(t *testing.T, expDir, stage, key string) (job, state string) {
	t.Helper()
	var r struct{ Job, State string }
	b, err := os.ReadFile(filepath.Join(expDir, runner.ExternalDir, "slurm", stage, key+".json"))
	if err != nil {
		return "", ""
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Job, r.State
}

func TestSlurmExecutor(t *testing.T) {
	bin := buildPit(t)
	conf := startSlurm(t)
	dir := t.TempDir()
	mk := filepath.Join(dir, "markers")
	os.Mkdir(mk, 0o755)
	gridFile(t, dir, "5ms", "")

	// The same grid with the local executor, for reference.
	slurmPit(t, bin, dir, t.TempDir(), conf, true, "run", "grid.toml", "--out", "local")
	want := runResults(t, filepath.Join(dir, "local", "grid"))

	t.Run("grid", func(t *testing.T) {
		out := slurmPit(t, bin, dir, mk, conf, true, "run", "grid.toml", "--out", "slurm", "--executor", "slurm", "--wait")
		if !strings.Contains(out, "14 submitted now in 7 job(s)") || !strings.Contains(out, "8 runs: 8 done, 0 failed") {
			t.Errorf("pit run output:\n%s", out)
		}
		expDir := filepath.Join(dir, "slurm", "grid")
		checkComplete(t, expDir)
		got := runResults(t, expDir)
		if len(got) != len(want) {
			t.Fatalf("%d runs with Slurm, %d locally", len(got), len(want))
		}
		for run, w := range want {
			if got[run] != w {
				t.Errorf("run %s differs from the local executor's:\nslurm:\n%s\nlocal:\n%s", run, got[run], w)
			}
		}
		// Every instance computed once, by its own job: the shared
		// test-gen of each seed once, not once per run.
		ms := markers(t, mk)
		if len(ms) != 14 {
			t.Errorf("%d instances computed, want 14", len(ms))
		}
		gens := 0
		for k, pids := range ms {
			if len(pids) != 1 {
				t.Errorf("%s computed %d times", k, len(pids))
			}
			if strings.HasPrefix(k, "test-gen/") {
				gens++
			}
		}
		if gens != 2 {
			t.Errorf("test-gen computed for %d keys, want 2 (one per seed)", gens)
		}
		// Each run links its jobs' logs and names its jobs in the manifest.
		states, _ := results.ScanRuns(expDir)
		for _, s := range states {
			logs, _ := filepath.Glob(filepath.Join(s.Dir, "logs", "*.out"))
			if len(logs) != 3 {
				t.Errorf("run %s: %d job logs, want 3", s.Manifest.Run, len(logs))
			}
			for _, l := range logs {
				if b, err := os.ReadFile(l); err != nil || !bytes.Contains(b, []byte("done")) {
					t.Errorf("log %s: %v %q", l, err, b)
				}
			}
			if s.Manifest.Extra["slurm.job.test-train"] == "" {
				t.Errorf("run %s: manifest names no job: %v", s.Manifest.Run, s.Manifest.Extra)
			}
		}
		// Nothing is submitted again.
		out = slurmPit(t, bin, dir, mk, conf, true, "run", "grid.toml", "--out", "slurm", "--executor", "slurm")
		if !strings.Contains(out, "14 in the cache, 0 already queued, 0 submitted now") {
			t.Errorf("second pit run:\n%s", out)
		}
	})

	t.Run("scancel", func(t *testing.T) {
		mk := filepath.Join(dir, "markers2")
		os.Mkdir(mk, 0o755)
		// Slow trainings (20 x 250 ms), so one can be cancelled mid-way.
		// The executor chosen in the file this time.
		gridFile(t, dir, "250ms", "\n[executor]\nkind = \"slurm\"\ntime = \"10:00\"\nmax_concurrent = 8\n")
		out := slurmPit(t, bin, dir, mk, conf, true, "run", "grid.toml", "--out", "slow")
		if !strings.Contains(out, "14 submitted now") {
			t.Fatalf("pit run:\n%s", out)
		}
		expDir := filepath.Join(dir, "slow", "grid")

		// Wait for a training job to run; pit status (a fresh process;
		// the submitter has exited) shows it running.
		var job, key string
		var stOut string
		waitFor(t, "a running training job", 30*time.Second, func() bool {
			states, _ := results.ScanRuns(expDir)
			for _, s := range states {
				for _, st := range s.Manifest.Stages {
					if st.Name == "test-train" {
						if j, state := readRecord(t, expDir, st.Name, st.Key); state == "running" {
							job, key = j, st.Key
							return true
						}
					}
				}
			}
			return false
		})
		stOut = slurmPit(t, bin, dir, mk, conf, true, "status", "grid.toml", "--out", "slow")
		if !regexp.MustCompile(`test-train: job \d+_\d+ RUNNING`).MatchString(stOut) {
			t.Errorf("pit status while running:\n%s", stOut)
		}

		// The local executor does not compete with the queued jobs.
		if out := slurmPit(t, bin, dir, mk, conf, false, "run", "grid.toml", "--out", "slow", "--executor", "local"); !strings.Contains(out, "Slurm job(s) of this grid are pending or running") {
			t.Errorf("pit run --executor local while jobs are queued:\n%s", out)
		}

		if out, err := exec.Command("env", conf, "scancel", job).CombinedOutput(); err != nil {
			t.Fatalf("scancel %s: %v\n%s", job, err, out)
		}
		// Everything else finishes; the cancelled training and the two
		// evaluations that need it fail.
		var failed int
		waitFor(t, "the grid to settle", 60*time.Second, func() bool {
			stOut = slurmPit(t, bin, dir, mk, conf, true, "status", "grid.toml", "--out", "slow")
			return strings.Contains(stOut, "8 runs: 6 done, 2 failed")
		})
		failed = strings.Count(stOut, "slurm job "+job)
		if failed != 2 {
			t.Errorf("pit status after scancel %s names the job in %d runs, want 2:\n%s", job, failed, stOut)
		}

		// The next pit run resubmits the training and its two evaluations,
		// nothing else.
		out = slurmPit(t, bin, dir, mk, conf, true, "run", "grid.toml", "--out", "slow", "--wait")
		if !strings.Contains(out, "11 in the cache, 0 already queued, 3 submitted now") || !strings.Contains(out, "8 runs: 8 done, 0 failed") {
			t.Errorf("resubmission:\n%s", out)
		}
		if j, state := readRecord(t, expDir, "test-train", key); j == job || state != "done" {
			t.Errorf("the cancelled training's record after resubmission: job %s, state %s", j, state)
		}
		checkComplete(t, expDir)
		for k, pids := range markers(t, mk) {
			if len(pids) != 1 {
				t.Errorf("%s computed %d times", k, len(pids))
			}
		}
		stOut = slurmPit(t, bin, dir, mk, conf, true, "status", "grid.toml", "--out", "slow")
		if !strings.Contains(stOut, "8 runs: 8 done") {
			t.Errorf("pit status at the end:\n%s", stOut)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		gridFile(t, dir, "250ms", "")
		out := slurmPit(t, bin, dir, t.TempDir(), conf, true, "run", "grid.toml", "--out", "cancel", "--executor", "slurm")
		if !strings.Contains(out, "14 submitted now") {
			t.Fatalf("pit run:\n%s", out)
		}
		out = slurmPit(t, bin, dir, "", conf, true, "cancel", "grid.toml", "--out", "cancel")
		// The two test-gen jobs may be over already; nothing else is.
		if m := regexp.MustCompile(`cancelled (\d+) job\(s\): (\d+_\d+ ?)+\n`).FindStringSubmatch(out); m == nil || (m[1] != "12" && m[1] != "13" && m[1] != "14") {
			t.Errorf("pit cancel:\n%s", out)
		}
		var stOut string
		waitFor(t, "the cancelled grid to settle", 30*time.Second, func() bool {
			stOut = slurmPit(t, bin, dir, "", conf, true, "status", "grid.toml", "--out", "cancel")
			return strings.Contains(stOut, "8 runs: 8 failed")
		})
		out = slurmPit(t, bin, dir, "", conf, true, "cancel", "grid.toml", "--out", "cancel")
		if !strings.Contains(out, "no pending or running jobs") {
			t.Errorf("pit cancel again:\n%s", out)
		}
	})
}
