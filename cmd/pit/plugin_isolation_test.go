package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestValidateWrapperThatNeverHandshakes: pit validate on an experiment
// whose reward plugin is a wrapper script that starts a child and never
// handshakes returns within the plugin start timeout (30 s), reports the
// timeout at the plugin's table, and leaves no process behind (the child
// held the wrapper's output pipes, which used to hang validate forever).
func TestValidateWrapperThatNeverHandshakes(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 30 s plugin start timeout; skipped with -short")
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	script := filepath.Join(dir, "pit-reward-silent")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsleep 600 &\necho $! > "+pidFile+"\nwait\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "silent.toml")
	src := `name = "silent"
seeds = [1]

[task]
kind = "synthetic"

[stages.data]
[stages.sft]

[stages.rm.reward]
plugin = "silent"
path = "pit-reward-silent"
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		var stdout, stderr bytes.Buffer
		code := realMain([]string{"validate", file}, &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("pit validate still runs 90 s after it started (start timeout 30 s)")
	}
	if d := time.Since(start); d > 40*time.Second {
		t.Errorf("pit validate took %v (start timeout 30 s)", d)
	}
	if r.code != 1 || !strings.Contains(r.stderr, "silent.toml:11") || !strings.Contains(r.stderr, "timeout") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and the start timeout at silent.toml:11", r.code, r.stderr)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the wrapper never started its child: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); processAlive(child); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("the wrapper's child %d survived pit validate", child)
		}
	}
}

// processAlive reports whether pid is a live (not zombie) process.
func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
