package results

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestScanRuns(t *testing.T) {
	out := t.TempDir()
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	write := func(exp, run string, st Status, pid int) {
		m := Manifest{Experiment: exp, Run: run, Status: st, Host: host, Extra: map[string]string{"pid": strconv.Itoa(pid)}}
		if err := WriteJSON(filepath.Join(RunDir(out, exp, run), ManifestFile), m); err != nil {
			t.Fatal(err)
		}
	}
	write("b", "arm=x/seed=1", StatusDone, dead.Process.Pid)
	write("a", "arm=x/seed=2", StatusRunning, dead.Process.Pid) // killed hard
	write("a", "arm=x/seed=1", StatusRunning, os.Getpid())      // alive
	// A manifest-like file inside the cache is not a run.
	os.MkdirAll(filepath.Join(out, "a", ".cache", "sft", "k"), 0o755)
	os.WriteFile(filepath.Join(out, "a", ".cache", "sft", "k", ManifestFile), []byte("{"), 0o644)

	runs, err := ScanRuns(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("found %d runs, want 3", len(runs))
	}
	want := []struct {
		run   string
		stale bool
		eff   Status
	}{
		{"arm=x/seed=1", false, StatusRunning},
		{"arm=x/seed=2", true, StatusInterrupted},
		{"arm=x/seed=1", false, StatusDone},
	}
	for i, w := range want {
		r := runs[i]
		if r.Manifest.Run != w.run || r.Stale != w.stale || r.Effective() != w.eff {
			t.Errorf("run %d = %s stale=%v effective=%s, want %+v", i, r.Manifest.Run, r.Stale, r.Effective(), w)
		}
	}
	// One experiment's directory works too.
	runs, err = ScanRuns(filepath.Join(out, "a"))
	if err != nil || len(runs) != 2 {
		t.Errorf("scan of one experiment: %d runs, %v", len(runs), err)
	}
	if _, err := ScanRuns(filepath.Join(out, "nope")); err == nil {
		t.Error("scan of a missing directory did not fail")
	}
}
