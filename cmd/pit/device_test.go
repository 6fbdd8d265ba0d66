package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/nn"
)

// TestRunDeviceFlag checks --device against the default experiment with
// --dry-run: a bad device, and cuda in a CPU-only binary, are reported
// like file errors naming the key and the command line, and nothing runs.
func TestRunDeviceFlag(t *testing.T) {
	out := t.TempDir()
	type testCase struct {
		device     string
		code       int
		wantStderr string
	}
	tests := []testCase{
		{"cpu", 0, ""},
		{"tpu", 1, `experiments.toml: model.device: must be "cpu" or "cuda" (got "tpu") (value set on the command line)`},
	}
	if !nn.CUDABuilt() {
		tests = append(tests, testCase{"cuda", 1, `model.device: "cuda" needs the CUDA build of pit, and this binary is CPU-only: build it with scripts/cuda/build.sh`})
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		args := []string{"run", "../../experiments.toml", "--dry-run", "--out", out, "--device", tc.device}
		code := realMain(args, &stdout, &stderr)
		if code != tc.code {
			t.Errorf("--device %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.device, code, tc.code, &stdout, &stderr)
		}
		if tc.wantStderr != "" && !strings.Contains(stderr.String(), tc.wantStderr) {
			t.Errorf("--device %s: stderr lacks %q:\n%s", tc.device, tc.wantStderr, &stderr)
		}
	}
}
