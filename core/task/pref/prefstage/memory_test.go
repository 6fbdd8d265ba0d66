package prefstage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pit-lab/pit/core/experiment"
)

// Preflight refuses a preference stage that would not fit in the memory
// the machine has, at the stage's line, and accepts it when it fits.
func TestPreflightMemory(t *testing.T) {
	dir := t.TempDir()
	train, eval := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "eval.jsonl")
	writePairs(t, train, 10, 1, false)
	writePairs(t, eval, 10, 2, false)
	file := filepath.Join(dir, "exp.toml")
	if err := os.WriteFile(file, fmt.Appendf(nil, experimentFile, train, eval), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mem  uint64
		want bool // a problem
	}{
		{"plenty", 64 << 30, false},
		{"tiny", 1 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := experiment.Preflight(context.Background(), exp, experiment.CheckEnv{ResultsDir: t.TempDir(), MemAvailable: tc.mem})
			var le *experiment.Error
			got := errors.As(err, &le)
			if got != tc.want {
				t.Fatalf("preflight with %d bytes: %v", tc.mem, err)
			}
			if got && le.Key != "stages.pref_rm" {
				t.Errorf("problem at %q, want stages.pref_rm", le.Key)
			}
		})
	}
}
