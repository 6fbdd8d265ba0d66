package registry_test

import (
	"context"
	"testing"

	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// nullReward is the least reward plugin: it scores everything 0.
type nullReward struct{}

func (nullReward) Describe(context.Context) (*sdk.Description, error) {
	return &sdk.Description{Name: "null", Version: "0"}, nil
}
func (nullReward) Configure(context.Context, *sdk.ConfigureRequest) error { return nil }
func (nullReward) Comparisons(context.Context, *sdk.ComparisonsRequest) (*sdk.ComparisonsResponse, error) {
	return &sdk.ComparisonsResponse{}, nil
}
func (nullReward) Score(_ context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	return &sdk.ScoreResponse{Rewards: make([]float64, len(req.Items))}, nil
}

func TestRegisterBuiltin(t *testing.T) {
	f := func() sdk.Plugin { return &nullReward{} }
	registry.Register(sdk.KindReward, "sdk-test-bt", f)
	if _, ok := registry.Builtin(sdk.KindReward, "sdk-test-bt"); !ok {
		t.Fatal("registered built-in not found")
	}
	if _, ok := registry.Builtin(sdk.KindAlgorithm, "sdk-test-bt"); ok {
		t.Fatal("found under the wrong kind")
	}
	found := false
	for _, b := range registry.Builtins() {
		found = found || b == (registry.BuiltinRef{Kind: sdk.KindReward, Name: "sdk-test-bt"})
	}
	if !found {
		t.Fatalf("Builtins() = %v", registry.Builtins())
	}
	for name, register := range map[string]func(){
		"duplicate":  func() { registry.Register(sdk.KindReward, "sdk-test-bt", f) },
		"wrong kind": func() { registry.Register(sdk.KindCurriculum, "sdk-test-bt2", f) },
		"bad kind":   func() { registry.Register("policy", "x", f) },
		"empty name": func() { registry.Register(sdk.KindReward, "", f) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			register()
		}()
	}
}
