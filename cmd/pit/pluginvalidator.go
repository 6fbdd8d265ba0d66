package main

import (
	"context"
	"fmt"
	"regexp"

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
	for i, e := range errs {
		errs[i] = keyed(e)
	}
	return errs
}

// configKeyRE finds the key a plugin's config error is about in the SDK's
// wording (`unknown key "x" ...`, `key "x": ...`); messages cross the wire as
// text, so the key is recovered from it.
var configKeyRE = regexp.MustCompile(`(?:^|: )(?:unknown )?key "([^"]+)"`)

type keyedError struct {
	error
	key string
}

func (e keyedError) ConfigKey() string { return e.key }
func (e keyedError) Unwrap() error     { return e.error }

func keyed(e error) error {
	if m := configKeyRE.FindStringSubmatch(e.Error()); m != nil {
		return keyedError{e, m[1]}
	}
	return e
}
