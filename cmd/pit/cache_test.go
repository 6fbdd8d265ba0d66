package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/cache"
)

func TestCacheVerify(t *testing.T) {
	root := filepath.Join(t.TempDir(), "results", "exp", ".cache")
	store, err := cache.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"aaa", "bbb"} {
		p, err := store.Begin("sft", key)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p.Dir(), "model.bin"), []byte("weights of "+key), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := p.Commit(cache.Meta{}, false); err != nil {
			t.Fatal(err)
		}
	}
	run := func() (int, string) {
		var out, errb bytes.Buffer
		code := realMain([]string{"cache", "verify", filepath.Dir(root)}, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run(); code != 0 || !strings.Contains(out, "2 entries verified, 0 corrupt") {
		t.Fatalf("intact cache: exit %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(store.Dir("sft", "bbb"), "model.bin"), []byte("weights of bbX"), 0o644)
	code, out := run()
	if code != 1 || !strings.Contains(out, "CORRUPT") || !strings.Contains(out, "bbb") || !strings.Contains(out, "model.bin has another SHA-256") {
		t.Fatalf("a changed file: exit %d\n%s", code, out)
	}
	// The runner's Get moves it aside; verify then lists it as quarantined.
	if _, ok, err := store.Get("sft", "bbb"); ok || err == nil {
		t.Fatalf("Get of a corrupt entry: ok %v, err %v", ok, err)
	}
	if code, out := run(); code != 0 || !strings.Contains(out, "1 entries verified, 0 corrupt, 1 in quarantine") || !strings.Contains(out, "QUARANTINED") {
		t.Fatalf("after quarantine: exit %d\n%s", code, out)
	}
}
