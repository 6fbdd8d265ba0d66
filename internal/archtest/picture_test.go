package archtest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestPictureCompare(t *testing.T) {
	md := "# x\n\n```mermaid\ngraph TD\n  subgraph s\n    a[\"core/a\"]\n    b[\"core/b/...\"]\n    c[\"plots\"]\n  end\n" +
		"  a --> b\n  a -. \"known\" .-> c\n  b -.-> c\n```\n"
	p, err := ParsePicture(md)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Nodes) != 3 || len(p.Edges) != 3 {
		t.Fatalf("parsed %d nodes, %d arrows; want 3, 3: %+v", len(p.Nodes), len(p.Edges), p)
	}
	for _, tc := range []struct {
		name string
		pkgs []Package
		want []string
	}{{
		name: "true picture",
		pkgs: []Package{
			{Path: "core/a", Imports: []string{"core/b", "plots", "internal/x"}},
			{Path: "core/b"},
			{Path: "core/b/sub", Imports: []string{"plots", "core/b"}},
			{Path: "plots"},
			{Path: "internal/x", Imports: []string{"core/a"}}, // not drawn: ignored
		},
	}, {
		name: "an arrow too many and one missing",
		pkgs: []Package{
			{Path: "core/a", Imports: []string{"core/b/sub", "plots"}},
			{Path: "core/b/sub"},
			{Path: "plots", Imports: []string{"core/a"}},
		},
		want: []string{
			"drawn but not imported: b --> c (core/b/... does not import plots)",
			"imported but not drawn: c --> a (plots imports core/a)",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Compare(tc.pkgs); !slices.Equal(got, tc.want) {
				t.Errorf("differences %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{
		"no block",
		"```mermaid\n  a --> b\n```\n",            // undeclared nodes
		"```mermaid\n  a[\"x\"]\n  a[\"y\"]\n```", // declared twice
	} {
		if _, err := ParsePicture(bad); err == nil {
			t.Errorf("ParsePicture(%q) succeeded", bad)
		}
	}
}

// TestArchitecturePicture holds docs/architecture.md's picture to the
// module's imports.
func TestArchitecturePicture(t *testing.T) {
	root := moduleRoot(t)
	md, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePicture(string(md))
	if err != nil {
		t.Fatalf("docs/architecture.md: %v", err)
	}
	pkgs, err := List(t.Context(), root, "")
	if err != nil {
		t.Fatal(err)
	}
	for id, pattern := range p.Nodes {
		if !slices.ContainsFunc(pkgs, func(pk Package) bool { return Match(pattern, pk.Path) }) {
			t.Errorf("docs/architecture.md: node %s (%s) matches no package", id, pattern)
		}
	}
	for _, d := range p.Compare(pkgs) {
		t.Errorf("docs/architecture.md: %s", d)
	}
}
