package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
)

// gcFixture is a stage cache with three entries and a results tree whose
// one run uses two of them (its manifest names them and its stages/ links
// point at them).
func gcFixture(t *testing.T) (store *cache.Store, resultsRoot string) {
	t.Helper()
	root := t.TempDir()
	store, err := cache.Open(filepath.Join(root, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range [][2]string{{"sft", "aaa"}, {"rm", "bbb"}, {"sft", "ccc"}} {
		p, err := store.Begin(e[0], e[1])
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(p.Dir(), "model.bin"), []byte("weights "+e[1]), 0o644)
		if err := p.Commit(cache.Meta{Run: "exp/seed=1"}, false); err != nil {
			t.Fatal(err)
		}
	}
	resultsRoot = filepath.Join(root, "results")
	run := filepath.Join(resultsRoot, "exp", "seed=1")
	m := results.Manifest{Experiment: "exp", Run: "seed=1", Status: results.StatusDone, Stages: []results.StageRecord{
		{Name: "sft", Key: "aaa", Status: results.StatusDone}, {Name: "rm", Key: "bbb", Status: results.StatusDone},
	}}
	if err := results.WriteJSON(filepath.Join(run, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(run, runner.StagesDir), 0o755)
	for _, s := range m.Stages {
		if err := os.Symlink(store.Dir(s.Name, s.Key), filepath.Join(run, runner.StagesDir, s.Name)); err != nil {
			t.Fatal(err)
		}
	}
	return store, resultsRoot
}

func pitIn(t *testing.T, want int, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := realMain(args, &out, &errb); code != want {
		t.Fatalf("pit %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, &out, &errb)
	}
	return out.String() + errb.String()
}

func TestCacheLsDuGc(t *testing.T) {
	store, res := gcFixture(t)
	c := store.Root()
	if ls := pitIn(t, 0, "cache", "ls", "--cache", c); !strings.Contains(ls, "3 entries in "+c) || !regexp.MustCompile(`sft\s+aaa\s+\d+ B\s+\S+ \S+\s+exp/seed=1`).MatchString(ls) {
		t.Errorf("ls:\n%s", ls)
	}
	if du := pitIn(t, 0, "cache", "du", "--cache", c); !regexp.MustCompile(`sft\s+2\s`).MatchString(du) || !regexp.MustCompile(`total\s+3\s`).MatchString(du) {
		t.Errorf("du:\n%s", du)
	}
	pitIn(t, 2, "cache", "gc", "--cache", c)                   // says what to remove
	pitIn(t, 2, "cache", "gc", "--cache", c, "--unreferenced") // needs results trees
	if gc := pitIn(t, 0, "cache", "gc", "--cache", c, "--unreferenced", "--dry-run", res); !strings.Contains(gc, "would remove sft/ccc") || !strings.Contains(gc, "would remove 1 entries") {
		t.Errorf("gc --dry-run:\n%s", gc)
	}
	if _, ok := store.Lookup("sft", "ccc"); !ok {
		t.Fatal("--dry-run removed an entry")
	}
	// By age: only entries last used before the cutoff, referenced or not.
	old := time.Now().Add(-72 * time.Hour)
	os.Chtimes(store.Dir("rm", "bbb"), old, old)
	if gc := pitIn(t, 0, "cache", "gc", "--cache", c, "--older-than", "2d"); !strings.Contains(gc, "removed rm/bbb") || !strings.Contains(gc, "removed 1 entries") {
		t.Errorf("gc --older-than:\n%s", gc)
	}
	if gc := pitIn(t, 0, "cache", "gc", "--cache", c, "--unreferenced", res); !strings.Contains(gc, "removed sft/ccc") || !strings.Contains(gc, "removed 1 entries") {
		t.Errorf("gc --unreferenced:\n%s", gc)
	}
	if _, ok := store.Lookup("sft", "aaa"); !ok {
		t.Error("gc removed the referenced, recently used entry")
	}
	pitIn(t, 2, "cache", "gc", "--cache", c, "--older-than", "soon")
}

// TestCacheVerifyFollowsStageLinks: a results tree's runs link to entries
// in a cache outside the tree; verify checks them through the links.
func TestCacheVerifyFollowsStageLinks(t *testing.T) {
	store, res := gcFixture(t)
	if out := pitIn(t, 0, "cache", "verify", res); !strings.Contains(out, "2 entries verified, 0 corrupt") {
		t.Errorf("verify of the results tree:\n%s", out)
	}
	os.WriteFile(filepath.Join(store.Dir("rm", "bbb"), "model.bin"), []byte("flipped"), 0o644)
	if out := pitIn(t, 1, "cache", "verify", res); !strings.Contains(out, "CORRUPT") || !strings.Contains(out, store.Dir("rm", "bbb")) {
		t.Errorf("verify of a damaged entry:\n%s", out)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(runner.CacheEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d, err := runner.DefaultCacheDir(); err != nil || d != "/xdg/pit" {
		t.Errorf("with XDG_CACHE_HOME: %q %v", d, err)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, err := runner.DefaultCacheDir(); err != nil || d != "/home/u/.cache/pit" {
		t.Errorf("with HOME only: %q %v", d, err)
	}
	t.Setenv(runner.CacheEnv, "/tmp/c")
	if d, _ := runner.DefaultCacheDir(); d != "/tmp/c" {
		t.Errorf("with %s: %q", runner.CacheEnv, d)
	}
}
