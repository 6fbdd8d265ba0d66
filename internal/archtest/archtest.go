// Package archtest checks the import rules of pit's architecture
// (docs/architecture.md): which packages may depend on which. Its test
// lists the rules and runs them on the module as `go list -deps` sees it;
// Check itself is tested on tables of made-up dependency lists, so a rule
// that can never fail shows up too.
//
// A rule names the packages it governs and the packages they must not
// depend on, directly or through others. Patterns are import paths
// relative to the module ("core/nn"); a trailing "/..." also matches every
// package below ("core/..."). A violation reports the chain of imports
// that breaks the rule, shortest first, so the import to remove is plain.
//
// The package also holds docs/architecture.md's picture of the packages to
// the module's real imports (Picture), and type-checks the CUDA build of
// core/nn on machines without the CUDA toolkit.
package archtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Package is one package of the module and its direct imports, as import
// paths relative to the module ("core/nn"); imports from outside the module
// are left out.
type Package struct {
	Path    string
	Imports []string
}

// Rule is one import rule.
type Rule struct {
	// Name says the rule in a few words: "core/nn imports no plugin".
	Name string
	// From are the patterns of the packages the rule governs.
	From []string
	// Forbid are the patterns of the packages those must not depend on.
	Forbid []string
	// Except, when set, excuses the violations whose last import (the one
	// into the forbidden package) is made by the package Except.Via: a known
	// breach being worked on elsewhere. Every other violation still counts.
	Except *Exception
}

// Exception is a known breach of a rule.
type Exception struct {
	Via   string // the package that makes the forbidden import
	Issue string // where the fix is tracked ("issue 18: ...")
}

// Violation is one package that breaks a rule.
type Violation struct {
	Rule  string
	Chain []string // the package, the packages in between, the forbidden one
	// Excused names the exception's issue when the violation is a known one.
	Excused string
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s depends on %s (%s): breaks %q",
		v.Chain[0], v.Chain[len(v.Chain)-1], strings.Join(v.Chain, " → "), v.Rule)
	if v.Excused != "" {
		s += "; known, " + v.Excused
	}
	return s
}

// Match reports whether the package path matches pattern.
func Match(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func matchAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return Match(p, path) })
}

// Check applies the rules to the packages and returns every violation: for
// each governed package and each forbidden package it reaches, the
// shortest chain of imports, in package order.
func Check(pkgs []Package, rules []Rule) []Violation {
	imports := map[string][]string{}
	var paths []string
	for _, p := range pkgs {
		imports[p.Path] = p.Imports
		paths = append(paths, p.Path)
	}
	slices.Sort(paths)
	var out []Violation
	for _, r := range rules {
		for _, from := range paths {
			if !matchAny(r.From, from) {
				continue
			}
			for _, chain := range forbiddenChains(imports, from, r.Forbid) {
				v := Violation{Rule: r.Name, Chain: chain}
				if r.Except != nil && chain[len(chain)-2] == r.Except.Via {
					v.Excused = r.Except.Issue
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// forbiddenChains walks the imports from start breadth-first and returns,
// for each forbidden package reached, the shortest chain to it. The walk
// does not continue through a forbidden package: its own imports are its
// rule's business.
func forbiddenChains(imports map[string][]string, start string, forbid []string) [][]string {
	prev := map[string]string{start: ""}
	queue := []string{start}
	var found []string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		deps := slices.Clone(imports[p])
		slices.Sort(deps)
		for _, d := range deps {
			if _, seen := prev[d]; seen {
				continue
			}
			prev[d] = p
			if matchAny(forbid, d) {
				found = append(found, d)
				continue
			}
			queue = append(queue, d)
		}
	}
	slices.Sort(found)
	var chains [][]string
	for _, f := range found {
		var chain []string
		for p := f; p != ""; p = prev[p] {
			chain = append(chain, p)
		}
		slices.Reverse(chain)
		chains = append(chains, chain)
	}
	return chains
}

// List returns the packages of the module rooted at dir and everything
// they import from it, as `go list -deps` sees them with the build tags
// (comma-separated, or ""). Test files are not included: the rules are
// about what pit's code imports.
func List(ctx context.Context, dir, tags string) ([]Package, error) {
	module, err := modulePath(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	out, err := goCmd(ctx, dir, "list", "-deps", "-tags", tags,
		"-f", `{{if not .Standard}}{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{end}}`, "./...")
	if err != nil {
		return nil, err
	}
	rel := func(p string) (string, bool) {
		if p == module {
			return ".", true
		}
		r, ok := strings.CutPrefix(p, module+"/")
		return r, ok
	}
	var pkgs []Package
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		path, ok := rel(f[0])
		if !ok {
			continue
		}
		p := Package{Path: path}
		for _, imp := range f[1:] {
			if r, ok := rel(imp); ok {
				p.Imports = append(p.Imports, r)
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, sc.Err()
}

// modulePath reads the module path from a go.mod file. (go list -m would
// list every module of a workspace.)
func modulePath(gomod string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
