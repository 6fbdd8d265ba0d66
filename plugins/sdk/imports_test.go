package sdk_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// engine lists what the SDK module must never import: pit's engine (the
// model backend, plotting, the core packages and the host that reaches
// them) and pit's own root module in general. A plugin author's module
// pulls in what the SDK imports, so one stray import here would bring
// Gorgonia and gonum/plot into every plugin.
var engine = []string{
	"gorgonia.org/",
	"gonum.org/",
	"github.com/pit-lab/pit/core/",
	"github.com/pit-lab/pit/cmd/",
	"github.com/pit-lab/pit/plots",
	"github.com/pit-lab/pit/plugins/host",
	"github.com/pit-lab/pit/plugins/builtin",
}

// mayImport lists pit's packages the SDK module may import: its own and
// the generated wire code's module.
var mayImport = []string{
	"github.com/pit-lab/pit/plugins/sdk",
	"github.com/pit-lab/pit/plugins/proto",
}

// violations returns the packages of deps that break the rules: any that
// starts with an engine prefix, and any of pit's own outside mayImport.
func violations(deps []string) []string {
	var bad []string
	for _, d := range deps {
		forbidden := slices.ContainsFunc(engine, func(p string) bool { return strings.HasPrefix(d, p) })
		ours := strings.HasPrefix(d, "github.com/pit-lab/pit/") || d == "github.com/pit-lab/pit"
		allowed := slices.ContainsFunc(mayImport, func(p string) bool { return d == p || strings.HasPrefix(d, p+"/") })
		if forbidden || (ours && !allowed) {
			bad = append(bad, d)
		}
	}
	return bad
}

// TestImportRules: every package of the SDK module, tests included,
// imports nothing of pit's engine. It asks the go command, in this module's
// directory, for the full dependency list.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var deps []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// "p [q.test]" is p compiled for q's tests; "p.test" and "p_test"
		// are p's test binary and external test package.
		p, _, _ := strings.Cut(line, " ")
		p = strings.TrimSuffix(strings.TrimSuffix(p, ".test"), "_test")
		deps = append(deps, p)
	}
	if !slices.Contains(deps, "github.com/pit-lab/pit/plugins/sdk/plugintest") {
		t.Fatalf("go list did not list the SDK's own packages:\n%s", out)
	}
	if bad := violations(deps); len(bad) > 0 {
		t.Fatalf("the SDK module imports pit's engine: %v", bad)
	}
}

// TestImportRulesCatchABreak shows the rule failing on the imports a
// careless change would add.
func TestImportRulesCatchABreak(t *testing.T) {
	clean := []string{"context", "github.com/hashicorp/go-plugin", "github.com/pit-lab/pit/plugins/sdk", "github.com/pit-lab/pit/plugins/sdk/internal/wire", "github.com/pit-lab/pit/plugins/proto/pit/reward/v1"}
	for _, tt := range []struct {
		name  string
		extra string // "" adds nothing
		bad   bool
	}{
		{"the SDK's own and the wire code", "", false},
		{"the model backend", "gorgonia.org/gorgonia", true},
		{"plotting", "gonum.org/v1/plot", true},
		{"numerics", "gonum.org/v1/gonum/stat", true},
		{"a core package", "github.com/pit-lab/pit/core/results", true},
		{"the host", "github.com/pit-lab/pit/plugins/host", true},
		{"the host's registry", "github.com/pit-lab/pit/plugins/host/registry", true},
		{"any other pit package", "github.com/pit-lab/pit/plugins/reward/pitgap", true},
		{"a look-alike of the SDK's path", "github.com/pit-lab/pit/plugins/sdkx", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			deps := clean
			if tt.extra != "" {
				deps = append(slices.Clone(clean), tt.extra)
			}
			if got := violations(deps); (len(got) > 0) != tt.bad {
				t.Fatalf("violations(%v) = %v, want bad = %v", deps, got, tt.bad)
			}
		})
	}
}
