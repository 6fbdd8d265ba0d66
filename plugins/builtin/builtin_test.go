package builtin

import (
	"context"
	"testing"

	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

func TestEveryBuiltinIsRegistered(t *testing.T) {
	ctx := context.Background()
	n := 0
	for kind, names := range Names {
		k, err := sdk.ParseKind(kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			f, ok := registry.Builtin(k, name)
			if !ok {
				t.Errorf("%s/%s is not registered", kind, name)
				continue
			}
			d, err := f().Describe(ctx)
			if err != nil {
				t.Errorf("%s/%s: Describe: %v", kind, name, err)
				continue
			}
			if d.Name != name || d.Kind != k || d.Version == "" || d.Summary == "" {
				t.Errorf("%s/%s describes itself as %+v", kind, name, d)
			}
			for _, f := range d.Config {
				if f.Doc == "" {
					t.Errorf("%s/%s: config key %q has no doc", kind, name, f.Name)
				}
			}
			n++
		}
	}
	if got := len(registry.Builtins()); got != n {
		t.Errorf("%d built-ins registered, Names lists %d", got, n)
	}
}
