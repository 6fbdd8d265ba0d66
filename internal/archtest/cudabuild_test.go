package archtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCUDABuildTypeChecks type-checks core/nn as `-tags cuda` builds it,
// with cgo faked (go/types' FakeImportC), so the CUDA code (device_cuda.go,
// gorgonia_cuda.go) is checked on machines without the CUDA headers that
// `go vet -tags cuda` needs. scripts/cuda/build.sh compiles it for real.
func TestCUDABuildTypeChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks Gorgonia and gonum from source (a few seconds)")
	}
	errs, err := typeCheck(moduleRoot(t), "cuda", "./core/nn")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Error(e)
	}
}

// typeCheck type-checks pkg and its dependencies from source under the
// build tags and returns the type errors in pkg itself. Dependencies are
// checked leniently (cgo's C names are unknown there too); their errors
// are not pkg's.
func typeCheck(dir, tags, pkg string) ([]string, error) {
	cmd := exec.Command("go", "list", "-deps", "-json", "-tags", tags, pkg)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("go list: %w: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list: %w", err)
	}
	type listed struct {
		ImportPath string
		Dir        string
		GoFiles    []string
		CgoFiles   []string
		ImportMap  map[string]string
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	fset := token.NewFileSet()
	checked := map[string]*types.Package{"unsafe": types.Unsafe}
	var all []listed
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		all = append(all, p)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("go list %s: no packages", pkg)
	}
	target := all[len(all)-1].ImportPath // -deps lists pkg last
	var errs []string
	for _, p := range all {
		if p.ImportPath == "unsafe" {
			continue
		}
		var files []*ast.File
		for _, f := range append(p.GoFiles, p.CgoFiles...) {
			af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
			if err != nil {
				return nil, err
			}
			files = append(files, af)
		}
		conf := types.Config{
			FakeImportC: true,
			Importer: importerFunc(func(path string) (*types.Package, error) {
				if m, ok := p.ImportMap[path]; ok {
					path = m
				}
				if c, ok := checked[path]; ok {
					return c, nil
				}
				return nil, fmt.Errorf("%s is not among go list's dependencies", path)
			}),
			Error: func(err error) {
				if p.ImportPath == target {
					errs = append(errs, err.Error())
				}
			},
		}
		checked[p.ImportPath], _ = conf.Check(p.ImportPath, fset, files, nil)
	}
	return errs, nil
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// TestTypeCheckFindsErrors makes sure the lenient check still reports a
// type error in the package it checks.
func TestTypeCheckFindsErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := writeFile(filepath.Join(dir, name), src); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("a.go", "package m\n\nvar A = 1\n")
	write("b_tagged.go", "//go:build special\n\npackage m\n\nvar B string = A\n")
	errs, err := typeCheck(dir, "special", ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "cannot use A") {
		t.Errorf("errors %q, want one about assigning A to a string", errs)
	}
	errs, err = typeCheck(dir, "", ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 0 {
		t.Errorf("without the tag: errors %q, want none", errs)
	}
}

func writeFile(path, src string) error { return os.WriteFile(path, []byte(src), 0o644) }
