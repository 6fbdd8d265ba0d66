package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// resumeExperiment is a data and an sft stage, long enough to be killed
// in the middle of sft.
const resumeExperiment = `name = "k9"
seeds = [1]
[task]
kind = "synthetic"
[task.splits]
sft = 300
rm = 100
rl = 20
eval = 10
rm_eval = 50
[model]
d_model = 32
layers = 1
heads = 2
[stages.data]
[stages.sft]
steps = 600
batch_size = 16
`

// TestKill9MidStageResumes kills pit run with SIGKILL in the middle of a
// real sft stage that checkpoints after every step, runs the same command
// again, and checks that the stage resumed from its checkpoint (its log
// says from which step) and that its model equals an uninterrupted run's.
func TestKill9MidStageResumes(t *testing.T) {
	bin := buildPit(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k9.toml"), []byte(resumeExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(out string) *exec.Cmd {
		cmd := exec.Command(bin, "run", "k9.toml", "--out", out, "--progress", "plain", "--code-version", "test", "--cache", filepath.Join(dir, out, ".cache"))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PIT_CHECKPOINT_EVERY=1ns")
		return cmd
	}
	if out, err := run("whole").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	cmd := run("killed")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	states := filepath.Join(dir, "killed", ".cache", "sft", ".scratch-*", "state.json")
	var killedAt int
	waitFor(t, "an sft checkpoint at step 40 or later", 60*time.Second, func() bool {
		m, _ := filepath.Glob(states)
		for _, p := range m {
			var env struct { // the checkpoint's state and its SHA-256 (core/pipeline)
				State struct{ Step int } `json:"state"`
			}
			if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &env) == nil && env.State.Step >= 40 {
				killedAt = env.State.Step
				return true
			}
		}
		return false
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if b, err := run("killed").CombinedOutput(); err != nil {
		t.Fatalf("rerun after kill -9: %v\n%s", err, b)
	}

	logs, _ := filepath.Glob(filepath.Join(dir, "killed", ".cache", "sft", "*", "stage.log"))
	if len(logs) != 1 {
		t.Fatalf("sft stage logs: %v", logs)
	}
	log, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "resumed from a checkpoint") {
		t.Fatalf("the rerun's sft did not resume (killed at a checkpoint of step ≥ %d); its log:\n%s", killedAt, log)
	}
	t.Logf("killed after the checkpoint of step %d (or later); resumed: %s", killedAt, lineWith(string(log), "resumed"))
	model := func(root string) []byte {
		m, _ := filepath.Glob(filepath.Join(dir, root, ".cache", "sft", "*", "model.bin"))
		if len(m) != 1 {
			t.Fatalf("%s: sft models %v", root, m)
		}
		b, err := os.ReadFile(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(model("whole"), model("killed")) {
		t.Error("the resumed sft model differs from the uninterrupted one")
	}
}

func lineWith(s, containing string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, containing) {
			return l
		}
	}
	return ""
}
