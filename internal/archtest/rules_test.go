package archtest

import (
	"path/filepath"
	"runtime"
	"testing"
)

// builtinPlugins are the plugins pit ships; the engine reaches them only
// through the plugin protocol (plugins/host), never by import.
var builtinPlugins = []string{
	"plugins/builtin/...",
	"plugins/reward/...",
	"plugins/algorithm/...",
	"plugins/curriculum/...",
	"plugins/examples/...",
}

// Rules are pit's import rules (docs/architecture.md). The SDK module's
// rule (it imports nothing of the engine) is checked where that module is.
var Rules = []Rule{
	{
		Name: "core/nn imports no plugin and no experiment code",
		From: []string{"core/nn/..."},
		Forbid: []string{
			"plugins/...",
			"core/experiment/...", "core/pipeline/...", "core/model/...", "core/rl/...",
			"core/runner/...", "core/task/...",
			"cmd/...", "plots/...",
		},
	},
	{
		Name:   "core/ imports no built-in plugin",
		From:   []string{"core/..."},
		Forbid: builtinPlugins,
	},
	{
		Name:   "core/ imports no plots",
		From:   []string{"core/..."},
		Forbid: []string{"plots/..."},
	},
}

// moduleRoot is the repository root: two levels above this package.
func moduleRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestImportRules checks the rules on the module, in the default build and
// in the CUDA build (whose extra files must keep them too).
func TestImportRules(t *testing.T) {
	for _, tags := range []string{"", "cuda"} {
		pkgs, err := List(t.Context(), moduleRoot(t), tags)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkgs) < 10 {
			t.Fatalf("tags %q: go list found %d packages of the module; want the whole module", tags, len(pkgs))
		}
		governed := map[string]int{}
		for _, p := range pkgs {
			for _, r := range Rules {
				if matchAny(r.From, p.Path) {
					governed[r.Name]++
				}
			}
		}
		for _, r := range Rules {
			if governed[r.Name] == 0 {
				t.Errorf("tags %q: rule %q governs no package of the module: its patterns are stale", tags, r.Name)
			}
		}
		for _, v := range Check(pkgs, Rules) {
			if v.Excused != "" {
				t.Logf("tags %q: %v", tags, v)
				continue
			}
			t.Errorf("tags %q: %v", tags, v)
		}
	}
}
