package sdk

import (
	"context"
	"fmt"
)

// Kind is one of the three kinds of plugin.
type Kind string

// The plugin kinds.
const (
	KindReward     Kind = "reward"
	KindAlgorithm  Kind = "algorithm"
	KindCurriculum Kind = "curriculum"
)

// Kinds lists every plugin kind in a fixed order.
var Kinds = []Kind{KindReward, KindAlgorithm, KindCurriculum}

// ParseKind checks that s names a plugin kind.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown plugin kind %q (want reward, algorithm or curriculum)", s)
}

// Plugin is what every kind has in common. A plugin is described before it
// is configured: Describe must work on a fresh value.
type Plugin interface {
	// Describe says who the plugin is and which config it takes.
	Describe(ctx context.Context) (*Description, error)
	// Configure applies the experiment file's config table for this plugin
	// and the seed from which all its random choices must flow. Missing keys
	// keep their defaults; unknown keys and wrong types are errors (use
	// DecodeConfig). Configure may be called more than once; each call starts
	// from the defaults.
	Configure(ctx context.Context, req *ConfigureRequest) error
}

// Stateful is implemented by plugins whose state must survive a checkpoint
// (curricula, adaptive KL controllers). RestoreState(SaveState()) must leave
// the plugin behaving exactly as before. Curriculum plugins must implement
// it; an Algorithm implements it when it keeps state between batches; a
// Reward may.
type Stateful interface {
	SaveState(ctx context.Context) ([]byte, error)
	RestoreState(ctx context.Context, state []byte) error
}

// Description tells the host who a plugin is and how to configure it.
type Description struct {
	Name    string // short, unique within its kind, e.g. "pit-gap"
	Version string // the plugin's own version, e.g. "1.2.0"
	Kind    Kind
	Summary string // one line for "pit plugins"

	// Capabilities are free-form flags the host and tools may act on. The
	// SDK adds CapStateful when the plugin implements Stateful.
	Capabilities []string

	// Config is the schema of the config table, with defaults. SchemaOf
	// builds it from a config struct holding the defaults.
	Config []ConfigField

	// Reward formulations only.
	NeedsLearnedModel    bool // the host must train the "reward" model with Comparisons
	ReferenceConditioned bool // Score reads Input.Reference
}

// Capability flags.
const (
	CapStateful = "stateful"
)

// Has reports whether d lists capability c.
func (d *Description) Has(c string) bool {
	for _, x := range d.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// ConfigField describes one key of a plugin's config table.
type ConfigField struct {
	Name    string // the key, as written in the experiment file
	Type    string // Go-like type: "float", "int", "bool", "string", "duration", "[]float", "map[string]float", ...
	Default any    // the value used when the key is absent; nil when none
	Doc     string // what the key does
}

// ConfigureRequest carries a plugin's configuration.
type ConfigureRequest struct {
	// Config is the plugin's config table from the experiment file: values
	// are string, bool, float64 or int64 (numbers may arrive as float64
	// after the wire), []any and map[string]any.
	Config map[string]any
	// Seed is the root of every random choice the plugin makes.
	Seed int64
}
