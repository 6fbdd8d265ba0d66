package experiment

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sync"

	"github.com/pit-lab/pit/plugins/sdk/table"
)

// StageKind describes a kind of pipeline stage: its settings and the plugins
// it uses.
type StageKind struct {
	// New returns a pointer to the stage's settings with defaults filled in;
	// nil means the stage has no settings of its own.
	New func() any
	// Plugins lists the plugin slots of the stage, e.g. a reward and an
	// algorithm for an RL stage. A slot's table in the file is named after
	// its plugin kind: [stages.rlhf.reward].
	Plugins []Slot
	// Doc is a one-line description for listings.
	Doc string
	// InitFrom, when not empty, says that the stage trains a model that the
	// file may initialise from another stage's model or from a checkpoint
	// file with the stage table's init_from key; its value is the default
	// source: a stage name, or InitScratch for fresh weights.
	InitFrom string
	// CheckInit checks that the checkpoint file at path can initialise the
	// stage's model under the arm's decoded task and model settings (model
	// is nil without a [model] table). Nil: any existing file is accepted.
	CheckInit func(path string, task, model any) error
	// Model says that the stage's artefacts include a model, so that
	// another stage's init_from may name it.
	Model bool
	// Needs names the stages whose artefacts a stage of this kind reads;
	// Preflight reports an arm that lacks one.
	Needs []string
}

// InitScratch is the init_from value for fresh weights.
const InitScratch = "scratch"

// Slot is a plugin a stage uses.
type Slot struct {
	Kind     string // plugin kind: "reward", "algorithm" or "curriculum"
	Required bool   // the file must name a plugin (unless Default is set)
	Default  string // plugin used when the file names none; "" for none
}

// PluginRef is the plugin a stage slot names, with its free-form config.
type PluginRef struct {
	Kind   string         // plugin kind, e.g. "reward"
	Name   string         // plugin name, e.g. "bradley-terry"
	Path   string         // executable of an external plugin, absolute; "" otherwise
	SHA256 string         // pinned lower-case hex checksum of Path; "" if not pinned
	Config map[string]any // the config table (after the plugin's defaults, if it provides them)
	// Env names the host environment variables the plugin process gets
	// besides the host's default allow-list: the file's [plugins] env
	// (checked by the section's own settings type).
	Env []string
}

// PluginValidator checks a plugin choice and its config before any work
// starts. The plugin host implements it; Validate returns every problem
// found (nil if none). Wrap ErrUnknownPlugin when the name is unknown; to
// point at a config key, return a *FieldError with the key relative to the
// config table, any error with a method ConfigKey() string (so the host
// need not import this package), or an error whose text carries a
// *table.Error's `key "k": ` (the plugin SDK's config errors, which cross
// the plugin wire as text: table.CutKey reads the key back, and the rest of
// the text is the message). Other errors are reported at the config table
// (or the plugin name when there is no config).
type PluginValidator interface {
	Validate(ctx context.Context, ref PluginRef) []error
}

// PluginDefaulter is optionally implemented by a PluginValidator: it
// returns the plugin's config with its defaults filled in, so that the
// resolved experiment (and the cache keys hashed from it) records them. It
// is only called for configs that validated.
type PluginDefaulter interface {
	Defaults(ctx context.Context, ref PluginRef) (map[string]any, error)
}

// PluginValidatorFunc adapts a function to PluginValidator.
type PluginValidatorFunc func(ctx context.Context, ref PluginRef) []error

// Validate calls f.
func (f PluginValidatorFunc) Validate(ctx context.Context, ref PluginRef) []error { return f(ctx, ref) }

// Registry holds the task kinds, model kinds, stage kinds and extra sections
// an experiment file may use, and the validator for plugin choices. Packages
// register with DefaultRegistry from init functions; tests may build their
// own.
type Registry struct {
	mu       sync.RWMutex
	tasks    map[string]func() any
	models   map[string]func() any
	stages   map[string]StageKind
	sections map[string]func() any
	plugins  PluginValidator
	checks   []namedCheck // Preflight's registered checks, in order
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		tasks:    map[string]func() any{},
		models:   map[string]func() any{},
		stages:   map[string]StageKind{},
		sections: map[string]func() any{},
	}
}

// DefaultRegistry is the registry Load and Parse use.
var DefaultRegistry = NewRegistry()

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// reserved top-level keys of an experiment file.
var topKeys = map[string]bool{
	"name": true, "description": true, "seeds": true, "out": true,
	"task": true, "model": true, "stages": true, "grid": true,
}

// RegisterTask registers a task kind ([task] kind = "...") with its
// settings. It panics on a bad or duplicate registration.
func (r *Registry) RegisterTask(kind string, newSettings func() any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mustRegister("task", kind, newSettings, r.tasks)
	r.tasks[kind] = newSettings
}

// RegisterModel registers a model kind ([model] kind = "...") with its
// settings. When only one model kind is registered, the file may leave
// kind out.
func (r *Registry) RegisterModel(kind string, newSettings func() any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mustRegister("model", kind, newSettings, r.models)
	r.models[kind] = newSettings
}

// RegisterStage registers a stage kind. A stage table [stages.NAME] has
// kind NAME unless it sets kind = "...".
func (r *Registry) RegisterStage(kind string, k StageKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !nameRE.MatchString(kind) {
		panic(fmt.Sprintf("experiment: stage kind %q: want lower-case letters, digits, _ and -", kind))
	}
	if _, dup := r.stages[kind]; dup {
		panic(fmt.Sprintf("experiment: stage kind %q registered twice", kind))
	}
	seen := map[string]bool{"kind": true}
	for _, s := range k.Plugins {
		if !nameRE.MatchString(s.Kind) || seen[s.Kind] {
			panic(fmt.Sprintf("experiment: stage kind %q: bad or duplicate plugin slot %q", kind, s.Kind))
		}
		seen[s.Kind] = true
	}
	if k.New != nil {
		t := checkNew("stage", kind, k.New)
		for _, f := range table.Fields(t) {
			if seen[f.Key] {
				panic(fmt.Sprintf("experiment: stage kind %q: setting %q clashes with a plugin slot or \"kind\"", kind, f.Key))
			}
		}
	}
	r.stages[kind] = k
}

// RegisterSection registers an optional top-level table (or array of
// tables, if New returns a pointer to a slice), e.g. [eval] or [[plots]].
func (r *Registry) RegisterSection(name string, newSettings func() any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if topKeys[name] {
		panic(fmt.Sprintf("experiment: section %q is a reserved key", name))
	}
	mustRegister("section", name, newSettings, r.sections)
	r.sections[name] = newSettings
}

// SetPluginValidator sets the validator for plugin choices and configs.
// Without one, plugin names and configs are accepted unchecked.
func (r *Registry) SetPluginValidator(v PluginValidator) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plugins = v
}

func mustRegister(what, name string, newSettings func() any, m map[string]func() any) {
	if !nameRE.MatchString(name) {
		panic(fmt.Sprintf("experiment: %s %q: want lower-case letters, digits, _ and -", what, name))
	}
	if _, dup := m[name]; dup {
		panic(fmt.Sprintf("experiment: %s %q registered twice", what, name))
	}
	checkNew(what, name, newSettings)
}

func checkNew(what, name string, newSettings func() any) reflect.Type {
	if newSettings == nil {
		panic(fmt.Sprintf("experiment: %s %q: nil New", what, name))
	}
	v := reflect.ValueOf(newSettings())
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic(fmt.Sprintf("experiment: %s %q: New must return a non-nil pointer, got %T", what, name, newSettings()))
	}
	return v.Elem().Type()
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// RegisterTask registers a task kind with DefaultRegistry.
func RegisterTask(kind string, newSettings func() any) {
	DefaultRegistry.RegisterTask(kind, newSettings)
}

// RegisterModel registers a model kind with DefaultRegistry.
func RegisterModel(kind string, newSettings func() any) {
	DefaultRegistry.RegisterModel(kind, newSettings)
}

// RegisterStage registers a stage kind with DefaultRegistry.
func RegisterStage(kind string, k StageKind) { DefaultRegistry.RegisterStage(kind, k) }

// RegisterSection registers an extra top-level section with DefaultRegistry.
func RegisterSection(name string, newSettings func() any) {
	DefaultRegistry.RegisterSection(name, newSettings)
}

// SetPluginValidator sets DefaultRegistry's plugin validator.
func SetPluginValidator(v PluginValidator) { DefaultRegistry.SetPluginValidator(v) }
