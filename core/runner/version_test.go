package runner

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSourceHash(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module x\n")
	write("go.sum", "")
	write("core/a/a.go", "package a\n")
	write("core/nn/cuda/kernels.cu", "// kernel\n")
	hash := func() string {
		t.Helper()
		h, _, err := SourceHash(root)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash()
	for _, rel := range []string{"core/a/a_test.go", "core/a/README.md", "core/a/testdata/x.json", "docs/x.go", "experiments/e.toml", "results/r.json"} {
		write(rel, "anything")
		if h := hash(); h != base {
			t.Errorf("adding %s changed the code version", rel)
		}
	}
	for _, rel := range []string{"core/a/a.go", "core/nn/cuda/kernels.cu", "go.sum", "plugins/p/p.go"} {
		write(rel, "changed "+rel)
		h := hash()
		if h == base {
			t.Errorf("changing %s kept the code version", rel)
		}
		base = h
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(root, "core/a/a.go"), later, later)
	if _, newest, _ := SourceHash(root); !newest.Equal(later) {
		t.Errorf("newest source file %v, want %v", newest, later)
	}
}
