package plots

import (
	"context"
	"path/filepath"
	"testing"
)

func loadFixture(t testing.TB, name string) *Results {
	t.Helper()
	res, err := Load(context.Background(), filepath.Join(fixturesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// built draws spec into a figure without writing it.
func built(t *testing.T, res *Results, spec Spec) (*figure, []string) {
	t.Helper()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	spec.SetDefaults()
	var nt notes
	f, err := build(context.Background(), res, &spec, &nt)
	if err != nil {
		t.Fatal(err)
	}
	return f, nt.list
}

func seriesOf(t *testing.T, f *figure, panel int, label string) seriesData {
	t.Helper()
	for _, s := range f.data {
		if s.panel == panel && s.label == label {
			return s
		}
	}
	var have []string
	for _, s := range f.data {
		have = append(have, s.label)
	}
	t.Fatalf("no series %q in panel %d (have %v)", label, panel, have)
	return seriesData{}
}
