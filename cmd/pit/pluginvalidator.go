package main

import (
	"context"
	"fmt"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/plugins/host"
	"github.com/pit-lab/pit/plugins/host/registry"
	"github.com/pit-lab/pit/plugins/sdk"
)

// The experiment loader checks every plugin choice and config against the
// plugins themselves before any work starts: built-ins in process, external
// plugins by launching them once.
func init() {
	experiment.SetPluginValidator(experiment.PluginValidatorFunc(validatePlugin))
}

func validatePlugin(ctx context.Context, r experiment.PluginRef) []error {
	var errs []error
	if r.Path == "" {
		kind, err := sdk.ParseKind(r.Kind)
		if err != nil {
			return []error{err}
		}
		if _, ok := registry.Builtin(kind, r.Name); !ok {
			return []error{fmt.Errorf("%w %q of kind %s (see `pit plugins`)", experiment.ErrUnknownPlugin, r.Name, r.Kind)}
		}
		errs = host.Validate(r.Kind, r.Name, r.Config)
	} else {
		m := host.NewManager(ctx, host.Options{Env: r.Env})
		defer m.Close()
		errs = m.Validate(ctx, host.Spec{Kind: sdk.Kind(r.Kind), Name: r.Name, Path: r.Path, SHA256: r.SHA256}, r.Config)
	}
	// Config problems come back worded by the SDK's decoder (package
	// table), `NAME config: key "k": message`; the experiment loader reads
	// the key from that text and reports the problem at the key's line.
	return errs
}
