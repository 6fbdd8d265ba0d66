package archtest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Picture is an import graph drawn as a Mermaid flowchart: nodes declared
// as id["pattern"] (a package path, or a pattern with "/..."), arrows as
// "a --> b" or "a -.-> b" (optionally with a label), a -> b meaning a
// package of a imports a package of b.
type Picture struct {
	Nodes map[string]string // id -> pattern
	Edges [][2]string       // [from id, to id]
}

var (
	mermaidNode = regexp.MustCompile(`^\s*([A-Za-z0-9_]+)\["([^"]+)"\]\s*$`)
	mermaidEdge = regexp.MustCompile(`^\s*([A-Za-z0-9_]+)\s+(?:-->|-\.->|-\.\s+"[^"]*"\s+\.->|--\s+"[^"]*"\s+-->)\s+([A-Za-z0-9_]+)\s*$`)
)

// ParsePicture reads the first ```mermaid block of a Markdown text.
func ParsePicture(markdown string) (*Picture, error) {
	_, rest, ok := strings.Cut(markdown, "```mermaid\n")
	if !ok {
		return nil, fmt.Errorf("no mermaid block")
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		return nil, fmt.Errorf("unterminated mermaid block")
	}
	p := &Picture{Nodes: map[string]string{}}
	for i, line := range strings.Split(block, "\n") {
		if m := mermaidNode.FindStringSubmatch(line); m != nil {
			if _, dup := p.Nodes[m[1]]; dup {
				return nil, fmt.Errorf("mermaid line %d: node %s declared twice", i+1, m[1])
			}
			p.Nodes[m[1]] = m[2]
		} else if m := mermaidEdge.FindStringSubmatch(line); m != nil {
			p.Edges = append(p.Edges, [2]string{m[1], m[2]})
		}
	}
	for _, e := range p.Edges {
		for _, id := range e {
			if _, ok := p.Nodes[id]; !ok {
				return nil, fmt.Errorf("arrow %s -> %s: node %s is not declared", e[0], e[1], id)
			}
		}
	}
	return p, nil
}

// Compare checks the picture against the packages: every arrow must be an
// import of the module (a package of its tail importing one of its head),
// and every import between two different nodes must be drawn. It returns
// one line per difference.
func (p *Picture) Compare(pkgs []Package) []string {
	// node is the id of the most specific node whose pattern matches.
	node := func(path string) string {
		best := ""
		for _, id := range slices.Sorted(maps.Keys(p.Nodes)) {
			if Match(p.Nodes[id], path) && (best == "" || len(p.Nodes[id]) > len(p.Nodes[best])) {
				best = id
			}
		}
		return best
	}
	real := map[[2]string]string{} // node pair -> an import that makes it
	for _, pkg := range pkgs {
		from := node(pkg.Path)
		if from == "" {
			continue
		}
		for _, imp := range pkg.Imports {
			to := node(imp)
			if to == "" || to == from {
				continue
			}
			if _, ok := real[[2]string{from, to}]; !ok {
				real[[2]string{from, to}] = pkg.Path + " imports " + imp
			}
		}
	}
	drawn := map[[2]string]bool{}
	var diffs []string
	for _, e := range p.Edges {
		drawn[e] = true
		if _, ok := real[e]; !ok {
			diffs = append(diffs, fmt.Sprintf("drawn but not imported: %s --> %s (%s does not import %s)", e[0], e[1], p.Nodes[e[0]], p.Nodes[e[1]]))
		}
	}
	var missing []string
	for e, why := range real {
		if !drawn[e] {
			missing = append(missing, fmt.Sprintf("imported but not drawn: %s --> %s (%s)", e[0], e[1], why))
		}
	}
	slices.Sort(missing)
	return append(diffs, missing...)
}
