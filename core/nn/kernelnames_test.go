package nn

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestEveryGPUKernelEmulated checks that each kernel of cuda/kernels.cu
// can be launched by both emulations: the cudaemu tests' runner
// (cudaemu.go) and the fake driver of scripts/cuda/fakegpu.sh
// (fakecuda.c), which dispatch by name, so a kernel missing from either
// fails only when a graph first launches it.
func TestEveryGPUKernelEmulated(t *testing.T) {
	read := func(path string) string {
		b, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	names := func(re, src string) []string {
		var out []string
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(src, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return out
	}
	kernels := names(`(?m)^KERNEL (pit_\w+)\(`, read("cuda/kernels.cu"))
	if len(kernels) < 20 {
		t.Fatalf("found only %d kernels in cuda/kernels.cu", len(kernels))
	}
	for _, e := range []struct{ file, re string }{
		{"cudaemu.go", `case "(pit_\w+)":`},
		{"../../scripts/cuda/fakegpu/fakecuda.c", `K\((pit_\w+)\)`},
	} {
		if got := names(e.re, read(e.file)); !slices.Equal(got, kernels) {
			t.Errorf("%s dispatches %v,\nkernels.cu has %v", e.file, got, kernels)
		}
	}
}
