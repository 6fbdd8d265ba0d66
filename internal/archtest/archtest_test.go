package archtest

import (
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"core/nn", "core/nn", true},
		{"core/nn", "core/nn/internal/f32", false},
		{"core/nn/...", "core/nn", true},
		{"core/nn/...", "core/nn/internal/f32", true},
		{"core/nn/...", "core/nnx", false},
		{"core/...", "core/pipeline", true},
		{"core/...", "cmd/pit", false},
		{"plots/...", "plots", true},
	} {
		if got := Match(tc.pattern, tc.path); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

// TestCheck runs the checker on made-up modules: each breaks a rule or
// keeps it, so a checker that never fails (or always does) is caught.
func TestCheck(t *testing.T) {
	rules := []Rule{
		{Name: "nn no plugins", From: []string{"core/nn/..."}, Forbid: []string{"plugins/..."}},
		{Name: "core no plots", From: []string{"core/..."}, Forbid: []string{"plots/..."},
			Except: &Exception{Via: "core/pipeline", Issue: "issue 18"}},
	}
	for _, tc := range []struct {
		name string
		pkgs []Package
		want []string // violations as "rule: chain" ("!" before the rule: excused)
	}{{
		name: "clean",
		pkgs: []Package{
			{Path: "core/nn", Imports: []string{"core/nn/internal/f32"}},
			{Path: "core/nn/internal/f32"},
			{Path: "core/pipeline", Imports: []string{"core/nn", "plugins/sdk"}},
			{Path: "plots", Imports: []string{"core/results"}},
			{Path: "core/results"},
			{Path: "plugins/sdk"},
		},
	}, {
		name: "direct import",
		pkgs: []Package{
			{Path: "core/nn", Imports: []string{"plugins/sdk"}},
			{Path: "plugins/sdk"},
		},
		want: []string{"nn no plugins: core/nn → plugins/sdk"},
	}, {
		name: "import through another package, from a subpackage",
		pkgs: []Package{
			{Path: "core/nn/internal/f32", Imports: []string{"core/util"}},
			{Path: "core/util", Imports: []string{"core/results", "plugins/host"}},
			{Path: "core/results"},
			{Path: "plugins/host", Imports: []string{"plugins/sdk"}},
			{Path: "plugins/sdk"},
		},
		want: []string{"nn no plugins: core/nn/internal/f32 → core/util → plugins/host"},
	}, {
		name: "shortest chain is reported",
		pkgs: []Package{
			{Path: "core/nn", Imports: []string{"core/a", "core/b"}},
			{Path: "core/a", Imports: []string{"core/c"}},
			{Path: "core/c", Imports: []string{"plugins/x"}},
			{Path: "core/b", Imports: []string{"plugins/x"}},
			{Path: "plugins/x"},
		},
		want: []string{"nn no plugins: core/nn → core/b → plugins/x"},
	}, {
		name: "packages outside the rule may import anything",
		pkgs: []Package{
			{Path: "cmd/pit", Imports: []string{"plots", "plugins/sdk", "core/nn"}},
			{Path: "plots"}, {Path: "plugins/sdk"}, {Path: "core/nn"},
		},
	}, {
		name: "known exception excuses only its own import",
		pkgs: []Package{
			{Path: "core/pipeline", Imports: []string{"plots"}},
			{Path: "core/task/prefstage", Imports: []string{"core/pipeline"}},
			{Path: "core/cache", Imports: []string{"plots"}},
			{Path: "plots"},
		},
		want: []string{
			"core no plots: core/cache → plots",
			"!core no plots: core/pipeline → plots",
			"!core no plots: core/task/prefstage → core/pipeline → plots",
		},
	}, {
		name: "one violation per forbidden package, each rule on its own",
		pkgs: []Package{
			{Path: "core/nn", Imports: []string{"plugins/a", "plugins/b", "plots"}},
			{Path: "plugins/a"}, {Path: "plugins/b"}, {Path: "plots"},
		},
		want: []string{
			"nn no plugins: core/nn → plugins/a",
			"nn no plugins: core/nn → plugins/b",
			"core no plots: core/nn → plots",
		},
	}, {
		name: "import cycle does not hang the walk",
		pkgs: []Package{
			{Path: "core/nn", Imports: []string{"core/a"}},
			{Path: "core/a", Imports: []string{"core/nn", "plugins/x"}},
			{Path: "plugins/x"},
		},
		want: []string{"nn no plugins: core/nn → core/a → plugins/x"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range Check(tc.pkgs, rules) {
				s := v.Rule + ": " + strings.Join(v.Chain, " → ")
				if v.Excused != "" {
					s = "!" + s
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("violations:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestViolationString(t *testing.T) {
	v := Violation{Rule: "core/ imports no plots", Chain: []string{"core/task/pref/prefstage", "core/pipeline", "plots"}, Excused: "issue 18"}
	want := `core/task/pref/prefstage depends on plots (core/task/pref/prefstage → core/pipeline → plots): breaks "core/ imports no plots"; known, issue 18`
	if got := v.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
