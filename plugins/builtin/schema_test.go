package builtin

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestSchemasGolden pins every built-in's description: config keys, types,
// defaults and docs. A changed default shows up here as a diff.
func TestSchemasGolden(t *testing.T) {
	ctx := context.Background()
	var b strings.Builder
	for _, ref := range registry.Builtins() {
		f, _ := registry.Builtin(ref.Kind, ref.Name)
		d, err := f().Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s\n  %s\n", d.Kind, d.Name, d.Version, d.Summary)
		if d.Kind == sdk.KindReward {
			fmt.Fprintf(&b, "  needs_learned_model=%v reference_conditioned=%v\n", d.NeedsLearnedModel, d.ReferenceConditioned)
		}
		for _, c := range d.Config {
			fmt.Fprintf(&b, "  %-24s %-7s %-8v %s\n", c.Name, c.Type, c.Default, c.Doc)
		}
	}
	path := filepath.Join("testdata", "builtins.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("descriptions differ from %s (go test -update rewrites it):\n%s", path, b.String())
	}
}
