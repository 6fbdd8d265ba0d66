package nn

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestGorgoniaBoundary keeps Gorgonia behind gorgonia.go (see its doc):
// no other non-test file of the package, in any build, imports Gorgonia,
// its tensor package or its type-inference package. New code uses pit's
// names for them (node, value, array, shape, dtype, newArray, apply …).
// device_cuda.go may import gorgonia.org/cu, the CUDA driver binding;
// gorgonia_cuda.go also its cuBLAS binding, to remake an engine's handle.
func TestGorgoniaBoundary(t *testing.T) {
	allowed := map[string][]string{
		"gorgonia.go":      {"gorgonia.org/gorgonia", "gorgonia.org/tensor", "github.com/chewxy/hm"},
		"gorgonia_cuda.go": {"gorgonia.org/gorgonia", "gorgonia.org/gorgonia/cuda", "gorgonia.org/cu/blas"},
		"device_cuda.go":   {"gorgonia.org/cu"},
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := filepath.Glob(filepath.Join("internal", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, sub...)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(path, "gorgonia.org/") && !strings.HasPrefix(path, "github.com/chewxy/") {
				continue
			}
			if !slices.Contains(allowed[f], path) {
				t.Errorf("%s imports %s: only gorgonia.go (and gorgonia_cuda.go for the CUDA machine) may use Gorgonia; use or add pit's names there", f, path)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked %d files; run from core/nn", checked)
	}
}
