package cache

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestCommitLookup(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup("sft", "k1"); ok {
		t.Fatal("empty store has an entry")
	}
	p, err := s.Begin("sft", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Dir(), "weights.bin"), []byte("w1"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Not visible before Commit.
	if _, ok := s.Lookup("sft", "k1"); ok {
		t.Fatal("entry visible before commit")
	}
	if err := p.Commit(Meta{Run: "exp/r1", Seconds: 1.5}, false); err != nil {
		t.Fatal(err)
	}
	m, ok := s.Lookup("sft", "k1")
	if !ok || m.Stage != "sft" || m.Key != "k1" || m.Run != "exp/r1" || m.Seconds != 1.5 {
		t.Fatalf("lookup = %+v, %v", m, ok)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir("sft", "k1"), "weights.bin"))
	if err != nil || string(b) != "w1" {
		t.Fatalf("weights = %q, %v", b, err)
	}
	if err := p.Abort(); err != nil {
		t.Fatalf("abort after commit: %v", err)
	}
	if _, err := os.Stat(s.Dir("sft", "k1")); err != nil {
		t.Fatal("abort after commit removed the entry")
	}

	// A second writer of the same key keeps the first entry...
	p2, _ := s.Begin("sft", "k1")
	os.WriteFile(filepath.Join(p2.Dir(), "weights.bin"), []byte("w2"), 0o644)
	if err := p2.Commit(Meta{}, false); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(s.Dir("sft", "k1"), "weights.bin"))
	if string(b) != "w1" {
		t.Fatalf("non-forced commit replaced the entry: %q", b)
	}
	// ...unless it replaces it (--force).
	p3, _ := s.Begin("sft", "k1")
	os.WriteFile(filepath.Join(p3.Dir(), "weights.bin"), []byte("w3"), 0o644)
	if err := p3.Commit(Meta{}, true); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(s.Dir("sft", "k1"), "weights.bin"))
	if string(b) != "w3" {
		t.Fatalf("forced commit kept the old entry: %q", b)
	}
	left, _ := os.ReadDir(filepath.Join(s.Root(), "sft"))
	if len(left) != 1 {
		t.Fatalf("stage dir holds %d entries, want 1 (temporaries not cleaned)", len(left))
	}
}

func TestAbort(t *testing.T) {
	s, _ := Open(t.TempDir())
	p, err := s.Begin("rm", "k")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(p.Dir(), "x"), []byte("x"), 0o644)
	if err := p.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Dir()); !os.IsNotExist(err) {
		t.Fatalf("aborted dir still there: %v", err)
	}
	if _, ok := s.Lookup("rm", "k"); ok {
		t.Fatal("aborted entry visible")
	}
}

func TestCleanRemovesOnlyDeadWriters(t *testing.T) {
	s, _ := Open(t.TempDir())
	// A temporary directory of a process that has exited.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	dead := cmd.Process.Pid
	deadDir := filepath.Join(s.Root(), "sft", ".tmp-k1-"+hostTag()+"-"+strconv.Itoa(dead)+"-1")
	os.MkdirAll(deadDir, 0o755)
	// One of a process on another host: it may be alive there.
	otherDir := filepath.Join(s.Root(), "sft", ".tmp-k1-otherhost-"+strconv.Itoa(dead)+"-1")
	os.MkdirAll(otherDir, 0o755)
	// One of this (live) process.
	live, _ := s.Begin("sft", "k2")
	// A committed entry.
	done, _ := s.Begin("sft", "k3")
	done.Commit(Meta{Finished: time.Now()}, false)

	if err := s.Clean(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(deadDir); !os.IsNotExist(err) {
		t.Errorf("dead writer's directory kept: %v", err)
	}
	if _, err := os.Stat(otherDir); err != nil {
		t.Errorf("another host's directory removed: %v", err)
	}
	if _, err := os.Stat(live.Dir()); err != nil {
		t.Errorf("live writer's directory removed: %v", err)
	}
	if _, ok := s.Lookup("sft", "k3"); !ok {
		t.Error("committed entry removed")
	}
}

func TestBadNames(t *testing.T) {
	s, _ := Open(t.TempDir())
	for _, name := range []string{"", ".", "..", "a/b", ".hidden"} {
		if _, err := s.Begin(name, "k"); err == nil {
			t.Errorf("Begin(%q, k) accepted a bad stage name", name)
		}
		if _, err := s.Begin("sft", name); err == nil {
			t.Errorf("Begin(sft, %q) accepted a bad key", name)
		}
	}
}

func TestKey(t *testing.T) {
	key := func(kv ...string) string {
		var b KeyBuilder
		for i := 0; i < len(kv); i += 2 {
			b.Add(kv[i], kv[i+1])
		}
		return b.Key()
	}
	tests := []struct {
		name string
		a, b []string
		same bool
	}{
		{"equal parts", []string{"settings", "lr=1"}, []string{"settings", "lr=1"}, true},
		{"different value", []string{"settings", "lr=1"}, []string{"settings", "lr=2"}, false},
		{"boundary moved", []string{"ab", "c"}, []string{"a", "bc"}, false},
		{"order matters", []string{"a", "1", "b", "2"}, []string{"b", "2", "a", "1"}, false},
		{"extra empty part", []string{"a", "1"}, []string{"a", "1", "", ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := key(tt.a...), key(tt.b...)
			if (ka == kb) != tt.same {
				t.Errorf("key(%q)=%s key(%q)=%s, same=%v want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
			}
			if len(ka) != 32 {
				t.Errorf("key length %d, want 32", len(ka))
			}
		})
	}
	// The encoding is part of the on-disk format: a change would silently
	// invalidate every cache, so pin one value.
	// Expected value: sha256(le64(5) "stage" le64(3) "sft"), computed with Python.
	if got, want := key("stage", "sft"), "b4a56aa4fe663de43d208c8e3ddad8e7"; got != want {
		t.Errorf("pinned key changed: got %s want %s", got, want)
	}
}
