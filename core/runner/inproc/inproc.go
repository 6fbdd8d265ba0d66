// Package inproc is a runner.Plugins that serves the built-in plugins
// (plugins/host/registry) inside the calling process, without process
// start-up, so that tests exercise a stage's logic quickly. Tests that
// must see the plugins run out of process use the real host
// (core/runner/pluginhost).
//
// The built-ins register themselves when imported; a test imports them
// with
//
//	import _ "github.com/pit-lab/pit/plugins/builtin"
package inproc

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/runner"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// Host serves the registered built-in plugins in process.
type Host struct{}

// Identify names a built-in plugin with version "test" and no hash.
func (Host) Identify(_ context.Context, spec runner.PluginSpec) (results.PluginIdentity, error) {
	if _, ok := registry.Builtin(sdk.Kind(spec.Slot), spec.Name); !ok {
		return results.PluginIdentity{}, fmt.Errorf("no built-in %s plugin %q", spec.Slot, spec.Name)
	}
	return results.PluginIdentity{Kind: spec.Slot, Name: spec.Name, Version: "test", SHA256: "in-process"}, nil
}

// Launch configures a fresh instance of the built-in plugin. A reward
// plugin's score requests carry models, as the SDK's serving side would
// fill them in a plugin process.
func (Host) Launch(ctx context.Context, spec runner.PluginSpec, seed int64, models any) (runner.Plugin, error) {
	f, ok := registry.Builtin(sdk.Kind(spec.Slot), spec.Name)
	if !ok {
		return nil, fmt.Errorf("no built-in %s plugin %q", spec.Slot, spec.Name)
	}
	p := f()
	if err := p.Configure(ctx, &sdk.ConfigureRequest{Config: spec.Config, Seed: seed}); err != nil {
		return nil, err
	}
	switch v := p.(type) {
	case sdk.Reward:
		ms, _ := models.(sdk.ModelService)
		return &reward{Reward: v, models: ms}, nil
	case sdk.Algorithm:
		return &algorithm{v}, nil
	case sdk.Curriculum:
		return &curriculum{v}, nil
	}
	return nil, fmt.Errorf("plugin %q of unknown kind", spec.Name)
}

type reward struct {
	sdk.Reward
	models sdk.ModelService
}

func (r *reward) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	req.Models = r.models
	return r.Reward.Score(ctx, req)
}

func (*reward) Close() error { return nil }

type algorithm struct{ sdk.Algorithm }

func (*algorithm) Close() error { return nil }

// SaveState and RestoreState pass the wrapped algorithm's state through (a
// stateful one, such as ppo's KL controller, must survive a checkpoint).
func (a *algorithm) SaveState(ctx context.Context) ([]byte, error) {
	return host.SaveState(ctx, a.Algorithm)
}

func (a *algorithm) RestoreState(ctx context.Context, b []byte) error {
	return host.RestoreState(ctx, a.Algorithm, b)
}

type curriculum struct{ sdk.Curriculum }

func (*curriculum) Close() error { return nil }
