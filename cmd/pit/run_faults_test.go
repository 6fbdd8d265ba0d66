package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, dir string
		minFree   uint64
		want      string
	}{
		{"fine", filepath.Join(dir, "results", "exp"), 1, ""},
		{"under a file", filepath.Join(file, "exp"), 1, "cannot be created (" + file + ": not a directory)"},
		{"full", filepath.Join(dir, "results2"), 1 << 62, "free on its file system, pit run wants at least 4294967296.0 GiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkWritable(c.dir, c.minFree)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				left, _ := os.ReadDir(c.dir)
				if len(left) != 0 {
					t.Errorf("the check left %d file(s) behind", len(left))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want it to contain %q", err, c.want)
			}
		})
	}
	// A read-only directory (meaningless for root, who writes anyway).
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if err := checkWritable(ro, 1); err == nil || !strings.Contains(err.Error(), "is not writable") {
			t.Errorf("read-only dir: %v", err)
		}
	}
}
