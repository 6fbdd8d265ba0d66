package sdk

import (
	"context"
	"errors"
	"fmt"
)

// Configurable is the Describe and Configure half of a plugin whose config
// is a struct C: embed it and write only the kind's own methods.
//
//	type lengthReward struct{ sdk.Configurable[config] }
//
//	func newLengthReward() *lengthReward {
//		return &lengthReward{sdk.NewConfigurable(sdk.Description{Name: "length", Version: "1.0.0",
//			Summary: "longer is better"}, defaultConfig, config.validate)}
//	}
//
// Describe returns Description with the config schema built from the
// defaults (SchemaOf); Configure decodes the config table over the defaults
// (DecodeConfig: unknown keys and wrong types are errors), checks the
// fields' `range` tags (CheckRanges) and Validate, and only then makes it
// the plugin's Config. Every error names the plugin:
// "NAME config: ...", and a problem with a key keeps it after that prefix
// (`NAME config: key "k": ...`; return table.Errorf from Validate for
// that), which is how the host finds the key's line in the experiment
// file. Embedders reach the current config as Config and the
// seed of the last Configure as Seed.
type Configurable[C any] struct {
	// Description is what Describe returns; its Config is filled from
	// Defaults.
	Description Description
	// Defaults returns the config that absent keys keep.
	Defaults func() C
	// Validate checks a decoded config; nil accepts every config.
	Validate func(C) error
	// OnConfigure, when set, is called with each accepted config and seed,
	// to reset the plugin's state from them.
	OnConfigure func(cfg C, seed int64)
	// Adjust, when set, completes a description from the current config
	// (e.g. a formulation that is reference-conditioned in one mode only).
	Adjust func(cfg C, d *Description)

	// Config is the current config: the defaults until Configure succeeds.
	Config C
	// Seed is the seed of the last successful Configure.
	Seed int64
}

// NewConfigurable returns a Configurable holding the defaults.
func NewConfigurable[C any](d Description, defaults func() C, validate func(C) error) Configurable[C] {
	return Configurable[C]{Description: d, Defaults: defaults, Validate: validate, Config: defaults()}
}

// Describe implements Plugin.
func (c *Configurable[C]) Describe(context.Context) (*Description, error) {
	d := c.Description
	d.Config = SchemaOf(c.Defaults())
	if c.Adjust != nil {
		c.Adjust(c.Config, &d)
	}
	return &d, nil
}

// Configure implements Plugin.
func (c *Configurable[C]) Configure(_ context.Context, req *ConfigureRequest) error {
	cfg := c.Defaults()
	if err := DecodeConfig(req.Config, &cfg); err != nil {
		return c.named(err)
	}
	return c.Set(cfg, req.Seed)
}

// named prefixes every one of err's problems (SplitErrors) with the
// plugin's name, keeping them apart so the host can report each on its own.
func (c *Configurable[C]) named(err error) error {
	var out []error
	for _, e := range SplitErrors(err) {
		out = append(out, fmt.Errorf("%s config: %w", c.Description.Name, e))
	}
	return errors.Join(out...)
}

// Set checks cfg (CheckRanges, then Validate) and makes it the plugin's
// config with seed, as Configure does with a decoded table. On error the
// plugin keeps its config.
func (c *Configurable[C]) Set(cfg C, seed int64) error {
	err := CheckRanges(cfg)
	if err == nil && c.Validate != nil {
		err = c.Validate(cfg)
	}
	if err != nil {
		return c.named(err)
	}
	c.Config, c.Seed = cfg, seed
	if c.OnConfigure != nil {
		c.OnConfigure(cfg, seed)
	}
	return nil
}
