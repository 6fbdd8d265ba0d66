package cache

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func commit(t *testing.T, s *Store, stage, key, data string) {
	t.Helper()
	p, err := s.Begin(stage, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Dir(), "model.bin"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(Meta{Run: "e/" + key}, false); err != nil {
		t.Fatal(err)
	}
}

func TestListTouchRemove(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	commit(t, s, "sft", "k1", "weights")
	commit(t, s, "rm", "k2", "reward model")
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(s.Dir("sft", "k1"), old, old)
	ents, err := s.List()
	if err != nil || len(ents) != 2 || ents[0].Stage != "rm" || ents[1].Key != "k1" || ents[1].Meta.Run != "e/k1" {
		t.Fatalf("List = %+v, %v", ents, err)
	}
	if ents[1].Bytes <= int64(len("weights")) || !ents[1].LastUsed.Before(time.Now().Add(-time.Hour)) {
		t.Errorf("sft entry: %d bytes, last used %v", ents[1].Bytes, ents[1].LastUsed)
	}
	// Reusing an entry (Get) marks it used.
	if _, ok, err := s.Get("sft", "k1"); !ok || err != nil {
		t.Fatalf("Get: %v %v", ok, err)
	}
	if ents, _ := s.List(); !ents[1].LastUsed.After(time.Now().Add(-time.Minute)) {
		t.Errorf("Get did not touch the entry: %v", ents[1].LastUsed)
	}

	// A process computing the entry holds its lock: Remove leaves it.
	lock := filepath.Join(s.Root(), LocksDir, "rm-k2")
	os.MkdirAll(filepath.Dir(lock), 0o755)
	f, _ := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o644)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("rm", "k2"); !errors.Is(err, ErrBusy) {
		t.Errorf("Remove of a locked entry: %v, want ErrBusy", err)
	}
	f.Close()
	if err := s.Remove("rm", "k2"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup("rm", "k2"); ok {
		t.Error("removed entry still committed")
	}
	if left, _ := os.ReadDir(filepath.Join(s.Root(), "rm")); len(left) != 0 {
		t.Errorf("Remove left %v", left)
	}

	if _, err := s.Quarantine("sft", "k1", "test"); err != nil {
		t.Fatal(err)
	}
	q, err := s.Quarantined()
	if err != nil || len(q) != 1 || q[0].Stage != "sft" {
		t.Fatalf("Quarantined = %+v, %v", q, err)
	}
	if ents, _ := s.List(); len(ents) != 0 {
		t.Errorf("List shows quarantined entries: %+v", ents)
	}
}
