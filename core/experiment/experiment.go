// Package experiment reads, validates and expands pit's experiment files.
//
// An experiment file (TOML) declares a name, seeds, an output root, a task,
// a model, the pipeline's stages with their settings and plugins, and an
// ablation grid. Load checks all of it before any work starts and reports
// every problem at once as "file:line: key.path: message"; Expand turns the
// grid into runs (arms crossed with seeds), each with its fully resolved
// configuration. The file format is described in docs/experiment-files.md.
//
// Task kinds, model kinds, stage kinds and extra sections register their
// settings types with a Registry (DefaultRegistry from init functions); a
// file's tables are decoded into them late, once the kind is known, as Caddy
// does with its modules. Plugin configs are free-form tables checked by a
// PluginValidator that the plugin host provides.
//
// # Settings types
//
// Settings types are plain structs with `toml:"name"` tags. A schema's New
// function returns a pointer to a fresh value with every default filled in
// (fresh all the way down: decoding writes into its maps, so it must not
// share them with package variables); the file's table is decoded onto it
// by github.com/pit-lab/pit/plugins/sdk/table, the decoder plugin configs
// use too (exact key names, unknown keys rejected, whole numbers for
// integers, durations as strings), so keys the file leaves out keep their
// defaults. An array in the file replaces the default array; a table
// decoded into a map[string]T adds to (or overrides keys of) the default
// map. A tag option "required" (`toml:"steps,required"`) makes a key
// mandatory; an embedded struct is flattened (",squash" says the same). A
// `range:"> 0"` tag bounds a number (table.CheckRanges). If the settings
// type, or any table inside it, has a method Validate() error, it runs
// after decoding; return *FieldError or *table.Error values (joined with
// errors.Join for several) to point at keys.
//
// Supported field types: bool, integers, floats, string, time.Duration
// (written as "30s"), time.Time, slices and arrays of these, map[string]T,
// nested structs (TOML tables), pointers to these, and any (taken as is).
package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/pit-lab/pit/plugins/sdk/table"
)

// Experiment is a validated experiment file.
type Experiment struct {
	File        string  // the file it was read from
	Name        string  // directory-safe experiment name
	Description string  // free text; optional
	Seeds       []int64 // root seeds; every arm runs once per seed
	Out         string  // results root (default "results")
	Axes        []Axis  // the grid's axes in file order; empty without a grid
	Arms        []Arm   // the grid's arms (one without a grid); exactly one is the baseline

	pos *positions // where each key is in the file, for Preflight's messages
}

// Baseline returns the baseline arm.
func (e *Experiment) Baseline() *Arm {
	for i := range e.Arms {
		if e.Arms[i].Baseline {
			return &e.Arms[i]
		}
	}
	return nil
}

// Axis is one grid axis: a key path and the values it takes.
type Axis struct {
	Name   string   // the axis's table name under [grid.axes]
	Path   string   // dotted key path it sets, e.g. "stages.pit_rl.curriculum.plugin"
	Values []any    // values in file order (int64, float64, string, bool, arrays, tables)
	Labels []string // directory-safe label of each value
	Group  string   // the zip group's name, if the axis is in a named [[grid.zip]] group
	zip    int      // index of its zip group, or -1
}

// Arm is one point of the grid: the base experiment with one value per axis.
type Arm struct {
	Label    string   // directory-safe label, e.g. "curriculum=two-round,steps=100"; "baseline" without a grid
	Baseline bool     // the arm others are compared with
	Factors  []Factor // the arm's grid coordinates, in axis order
	Config   *Config  // the arm's resolved configuration
	values   []int    // value index per axis
}

// Factor is one grid coordinate of an arm: an axis (or a named zip group)
// and its value.
type Factor struct {
	Name  string // axis name, or the zip group's name
	Value any    // the axis value; for a named zip group, its label
	Label string // directory-safe label of the value
}

// Config is the fully resolved experiment of one arm: every default filled
// in and the grid applied. It is shared by the arm's runs; do not modify it.
type Config struct {
	Name        string
	Description string
	Out         string
	Task        Section
	Model       *Section       // nil when no model kind is registered and the file has no [model]
	Stages      []Stage        // in file order
	Sections    map[string]any // registered extra sections present in the file: name -> decoded settings
	tree        map[string]any // canonical resolved tree (without seed)
}

// Section is a task or model: its kind and its decoded settings (a pointer
// to the registered settings type).
type Section struct {
	Kind     string
	Settings any
}

// Resolver is implemented by [task] or [model] settings that need the
// file around them: paths written relative to the experiment file, or
// which keys the file wrote (rather than left at their defaults). Resolve
// runs after decoding and Validate; return *FieldError values (joined with
// errors.Join) to point at keys.
type Resolver interface {
	Resolve(r Resolution) error
}

// Resolution is what a Resolver learns of the file.
type Resolution struct {
	Dir     string                // the experiment file's directory
	Written func(key string) bool // whether the table wrote this top-level key
}

// InputFiles is implemented by [task] or [model] settings that read files
// outside the experiment file (a pretrained model's folder): the files'
// absolute paths. Their content, not their names, enters the cache key of
// every stage, so a changed checkpoint is a new key.
type InputFiles interface {
	InputFiles() ([]string, error)
}

// Stage is one resolved pipeline stage.
type Stage struct {
	Name     string      // the table name under [stages]
	Kind     string      // the registered stage kind
	Settings any         // pointer to the kind's settings type, defaults filled in
	Plugins  []PluginRef // in the order of the kind's slots
	// InitFrom is where the stage's model starts, for kinds that train one
	// (StageKind.InitFrom): InitScratch, the name of another stage of the
	// run, or a checkpoint file (then InitPath is its absolute path).
	InitFrom string
	InitPath string
}

// Plugin returns the stage's plugin of the given kind.
func (s *Stage) Plugin(kind string) (PluginRef, bool) {
	for _, p := range s.Plugins {
		if p.Kind == kind {
			return p, true
		}
	}
	return PluginRef{}, false
}

// Stage returns the stage named name.
func (c *Config) Stage(name string) (*Stage, bool) {
	for i := range c.Stages {
		if c.Stages[i].Name == name {
			return &c.Stages[i], true
		}
	}
	return nil, false
}

// Tree returns a copy of the resolved configuration as a TOML-shaped tree
// (map[string]any of int64, float64, string, bool, time.Time, []any and
// map[string]any).
func (c *Config) Tree() map[string]any { return deepCopy(c.tree).(map[string]any) }

// DefaultOut is the results root when the file sets no out.
const DefaultOut = "results"

// Load reads and validates an experiment file with DefaultRegistry.
func Load(ctx context.Context, path string, opts ...Option) (*Experiment, error) {
	return DefaultRegistry.Load(ctx, path, opts...)
}

// Parse validates an experiment file's contents with DefaultRegistry;
// filename is used in messages and to resolve relative plugin paths.
func Parse(ctx context.Context, filename string, data []byte, opts ...Option) (*Experiment, error) {
	return DefaultRegistry.Parse(ctx, filename, data, opts...)
}

// Load reads and validates an experiment file. Invalid files give an
// ErrorList with every problem found.
func (r *Registry) Load(ctx context.Context, path string, opts ...Option) (*Experiment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	return r.Parse(ctx, path, data, opts...)
}

// Parse validates an experiment file's contents. Invalid files give an
// ErrorList with every problem found.
func (r *Registry) Parse(ctx context.Context, filename string, data []byte, opts ...Option) (*Experiment, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, ErrorList{{File: filename, Line: pe.Position.Line, Msg: "invalid TOML: " + pe.Message}}
		}
		return nil, ErrorList{{File: filename, Msg: "invalid TOML: " + err.Error()}}
	}
	raw = normalizeRaw(raw).(map[string]any)
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.apply(raw); err != nil {
		return nil, ErrorList{{File: filename, Msg: err.Error()}}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	l := &loader{
		ctx:     ctx,
		reg:     r,
		file:    filename,
		dir:     filepath.Dir(filename),
		pos:     scanPositions(string(data)),
		plugins: map[string]pluginResult{},
	}
	exp := l.load(raw)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("experiment: %s: %w", filename, err)
	}
	if len(l.errs) > 0 {
		o.markOverridden(l.errs)
		return nil, l.errs.sortAndDedup()
	}
	return exp, nil
}

type loader struct {
	ctx     context.Context
	reg     *Registry
	file    string
	dir     string
	pos     *positions
	errs    ErrorList
	plugins map[string]pluginResult // memoised plugin validation, by plugin ref
	env     []string                // [plugins] env of the arm being resolved
}

// pluginEnv returns the names in the tree's [plugins] env, so that
// validation starts external plugins with the environment runs give them.
// Wrong values are reported by the section's settings type.
func pluginEnv(tree map[string]any) []string {
	sec, _ := tree["plugins"].(map[string]any)
	list, _ := sec["env"].([]any)
	var env []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			env = append(env, s)
		}
	}
	return env
}

type pluginResult struct {
	probs    []problem // keys relative to the plugin table
	resolved map[string]any
}

func (l *loader) add(key, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: l.pos.lookup(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) addProblems(ps []problem) {
	for _, p := range ps {
		l.errs = append(l.errs, &Error{File: l.file, Line: l.pos.lookup(p.key), Key: p.key, Msg: p.msg})
	}
}

var safeNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)

func (l *loader) load(raw map[string]any) *Experiment {
	exp := &Experiment{File: l.file, Out: DefaultOut, pos: l.pos}
	known := sortedKeys(topKeys)
	known = append(known, sortedKeys(l.reg.sections)...)
	for _, k := range sortedKeys(raw) {
		if !topKeys[k] && l.reg.sections[k] == nil {
			l.add(joinKey("", k), "%s", unknownMsg("key", k, known))
		}
	}
	// name
	switch v, ok := raw["name"]; {
	case !ok:
		l.add("name", `missing required value (expected a name such as "pit-ablation")`)
	default:
		s, isStr := v.(string)
		if !isStr || !safeNameRE.MatchString(s) {
			l.add("name", "expected a name of letters, digits, '.', '_', '+' and '-' that is usable as a directory (got %s)", got(v))
		} else {
			exp.Name = s
		}
	}
	if v, ok := raw["description"]; ok {
		if s, isStr := v.(string); isStr {
			exp.Description = s
		} else {
			l.add("description", "expected a string (got %s)", got(v))
		}
	}
	if v, ok := raw["out"]; ok {
		if s, isStr := v.(string); isStr && s != "" {
			exp.Out = s
		} else {
			l.add("out", "expected a non-empty directory path (got %s)", got(v))
		}
	}
	exp.Seeds = l.seeds(raw)

	g := l.grid(raw)
	exp.Axes = g.axes
	base := map[string]any{}
	for k, v := range raw {
		if k != "grid" && k != "seeds" {
			base[k] = v
		}
	}
	base["out"] = exp.Out
	l.arms(exp, g, base)
	return exp
}

func (l *loader) seeds(raw map[string]any) []int64 {
	v, ok := raw["seeds"]
	if !ok {
		l.add("seeds", "missing required value (expected a non-empty array of integers, e.g. seeds = [1, 2, 3])")
		return nil
	}
	a, isArr := v.([]any)
	if !isArr || len(a) == 0 {
		l.add("seeds", "expected a non-empty array of integers (got %s)", got(v))
		return nil
	}
	var seeds []int64
	seen := map[int64]int{}
	for i, e := range a {
		key := joinIndex("seeds", i)
		s, isInt := e.(int64)
		if !isInt {
			l.add(key, "expected an integer (got %s)", got(e))
			continue
		}
		if j, dup := seen[s]; dup {
			l.add(key, "duplicate seed %d (also seeds[%d])", s, j)
			continue
		}
		seen[s] = i
		seeds = append(seeds, s)
	}
	if len(seeds) > MaxRuns {
		l.add("seeds", "expected at most %d seeds (every arm runs once per seed; the cap is %d runs), got %d", MaxRuns, MaxRuns, len(seeds))
		return nil
	}
	return seeds
}

// resolve decodes one arm's tree (the file with the arm's grid values set)
// into a Config. Problems carry key paths, not yet positions.
func (l *loader) resolve(tree map[string]any) (*Config, []problem) {
	var probs []problem
	cfg := &Config{Sections: map[string]any{}}
	out := map[string]any{}
	cfg.Name, _ = tree["name"].(string)
	cfg.Description, _ = tree["description"].(string)
	cfg.Out, _ = tree["out"].(string)
	out["name"] = cfg.Name
	out["out"] = cfg.Out
	if cfg.Description != "" {
		out["description"] = cfg.Description
	}

	// [task]
	if sec, resolved, ps := l.section(tree, "task", "task kind", l.reg.tasks, true); len(ps) > 0 {
		probs = append(probs, ps...)
	} else {
		cfg.Task = *sec
		out["task"] = resolved
	}
	// [model]
	if _, present := tree["model"]; present || len(l.reg.models) > 0 {
		sec, resolved, ps := l.section(tree, "model", "model kind", l.reg.models, false)
		probs = append(probs, ps...)
		if len(ps) == 0 {
			cfg.Model = sec
			out["model"] = resolved
		}
	}
	// [stages.*]
	l.env = pluginEnv(tree)
	stages, resolved, ps := l.stages(tree)
	probs = append(probs, ps...)
	probs = append(probs, l.checkInit(cfg, stages, tree)...)
	cfg.Stages = stages
	out["stages"] = resolved
	// registered sections
	for _, name := range sortedKeys(l.reg.sections) {
		v, ok := tree[name]
		if !ok {
			continue
		}
		settings, ps := decodeSettings(v, l.reg.sections[name], quoteKey(name))
		probs = append(probs, ps...)
		if len(ps) == 0 {
			cfg.Sections[name] = settings
			out[name], _ = normalizeValue(settings)
		}
	}
	cfg.tree = out
	return cfg, probs
}

// section resolves [task] or [model].
func (l *loader) section(tree map[string]any, name, what string, kinds map[string]func() any, required bool) (*Section, map[string]any, []problem) {
	v, ok := tree[name]
	if !ok {
		v = map[string]any{}
		if required {
			return nil, nil, []problem{{key: name, msg: fmt.Sprintf("missing required table [%s] (expected kind = %s)", name, oneOf(kinds))}}
		}
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, nil, []problem{{key: name, msg: fmt.Sprintf("expected a table (got %s)", got(v))}}
	}
	kindKey := name + ".kind"
	var kind string
	switch kv, has := m["kind"]; {
	case !has && !required && len(kinds) == 1:
		kind = sortedKeys(kinds)[0]
	case !has:
		return nil, nil, []problem{{key: kindKey, msg: fmt.Sprintf("missing required value (expected %s)", oneOf(kinds))}}
	default:
		s, isStr := kv.(string)
		if !isStr {
			return nil, nil, []problem{{key: kindKey, msg: fmt.Sprintf("expected a string naming the %s (got %s)", what, got(kv))}}
		}
		kind = s
	}
	newSettings, known := kinds[kind]
	if !known {
		return nil, nil, []problem{{key: kindKey, msg: unknownMsg(what, kind, sortedKeys(kinds))}}
	}
	rest := withoutKeys(m, "kind")
	settings, ps := decodeSettings(rest, newSettings, name, "kind")
	if len(ps) > 0 {
		return nil, nil, ps
	}
	if r, ok := settings.(Resolver); ok {
		written := func(key string) bool { _, ok := rest[key]; return ok }
		if ps := fieldProblems(r.Resolve(Resolution{Dir: l.dir, Written: written}), name, ""); len(ps) > 0 {
			return nil, nil, ps
		}
	}
	resolved, _ := normalizeValue(settings)
	rm, _ := resolved.(map[string]any)
	if rm == nil {
		rm = map[string]any{}
	}
	rm["kind"] = kind
	return &Section{Kind: kind, Settings: settings}, rm, nil
}

func withoutKeys(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

var stageNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func (l *loader) stages(tree map[string]any) ([]Stage, map[string]any, []problem) {
	v, ok := tree["stages"]
	if !ok {
		return nil, nil, []problem{{key: "stages", msg: fmt.Sprintf("missing required table [stages] (expected at least one stage, e.g. [stages.sft]; stage kinds: %s)", oneOf(l.reg.stages))}}
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, nil, []problem{{key: "stages", msg: fmt.Sprintf("expected a table of stages (got %s)", got(v))}}
	}
	if len(m) == 0 {
		return nil, nil, []problem{{key: "stages", msg: "expected at least one stage (got none)"}}
	}
	var probs []problem
	var stages []Stage
	resolved := map[string]any{}
	for _, name := range l.fileOrder("stages", m) {
		path := joinKey("stages", name)
		if !stageNameRE.MatchString(name) {
			probs = append(probs, problem{key: path, msg: "expected a stage name of lower-case letters, digits, '_' and '-'"})
			continue
		}
		st, isMap := m[name].(map[string]any)
		if !isMap {
			probs = append(probs, problem{key: path, msg: fmt.Sprintf("expected a table (got %s)", got(m[name]))})
			continue
		}
		kind := name
		if kv, has := st["kind"]; has {
			s, isStr := kv.(string)
			if !isStr {
				probs = append(probs, problem{key: path + ".kind", msg: fmt.Sprintf("expected a string naming the stage kind (got %s)", got(kv))})
				continue
			}
			kind = s
		}
		sk, known := l.reg.stages[kind]
		if !known {
			key := path + ".kind"
			if _, has := st["kind"]; !has {
				key = path
			}
			probs = append(probs, problem{key: key, unknown: true, msg: unknownMsg("stage kind", kind, sortedKeys(l.reg.stages)) +
				"; a stage's kind is its table name unless it sets kind"})
			continue
		}
		stage, res, ps := l.stage(path, name, kind, sk, st)
		probs = append(probs, ps...)
		if len(ps) == 0 {
			stages = append(stages, stage)
			resolved[name] = res
		}
	}
	return stages, resolved, probs
}

func (l *loader) stage(path, name, kind string, sk StageKind, st map[string]any) (Stage, map[string]any, []problem) {
	var probs []problem
	stage := Stage{Name: name, Kind: kind}
	res := map[string]any{}
	extra := []string{"kind"}
	if sk.InitFrom != "" {
		extra = append(extra, initKey)
		stage.InitFrom = sk.InitFrom
		if v, has := st[initKey]; has {
			s, isStr := v.(string)
			if !isStr || s == "" {
				probs = append(probs, problem{key: joinKey(path, initKey), msg: fmt.Sprintf("expected a stage name, %q or a checkpoint file (got %s)", InitScratch, got(v))})
			}
			stage.InitFrom = s
		}
	}
	for _, slot := range sk.Plugins {
		extra = append(extra, slot.Kind)
		ref, refRes, ps := l.plugin(joinKey(path, slot.Kind), slot, st[slot.Kind], st[slot.Kind] != nil)
		probs = append(probs, ps...)
		if len(ps) == 0 && ref != nil {
			stage.Plugins = append(stage.Plugins, *ref)
			res[slot.Kind] = refRes
		}
	}
	newSettings := sk.New
	if newSettings == nil {
		newSettings = func() any { return &struct{}{} }
	}
	settings, ps := decodeSettings(withoutKeys(st, extra...), newSettings, path, extra...)
	probs = append(probs, ps...)
	if len(probs) > 0 {
		return stage, nil, probs
	}
	stage.Settings = settings
	if sm, ok := normalizeValue(settings); ok {
		for k, v := range sm.(map[string]any) {
			res[k] = v
		}
	}
	res["kind"] = kind
	if sk.InitFrom != "" {
		res[initKey] = stage.InitFrom
	}
	if sk.New == nil {
		stage.Settings = nil
	}
	return stage, res, nil
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

var pluginKeys = []string{"config", "path", "plugin", "sha256"}

// plugin resolves one plugin slot of a stage.
func (l *loader) plugin(path string, slot Slot, v any, present bool) (*PluginRef, map[string]any, []problem) {
	ref := &PluginRef{Kind: slot.Kind, Config: map[string]any{}, Env: l.env}
	switch x := v.(type) {
	case nil:
		if slot.Default == "" {
			if slot.Required {
				return nil, nil, []problem{{key: path, msg: fmt.Sprintf(`missing required %s plugin (expected %s = "NAME" or a [%s] table with plugin = "NAME")`, slot.Kind, slot.Kind, path)}}
			}
			return nil, nil, nil
		}
		ref.Name = slot.Default
	case string:
		ref.Name = x
	case map[string]any:
		var probs []problem
		for _, k := range sortedKeys(x) {
			switch k {
			case "plugin":
				if s, ok := x[k].(string); ok && s != "" {
					ref.Name = s
				} else {
					probs = append(probs, problem{key: path + ".plugin", msg: fmt.Sprintf("expected a plugin name (got %s)", got(x[k]))})
				}
			case "path":
				s, ok := x[k].(string)
				if !ok || s == "" {
					probs = append(probs, problem{key: path + ".path", msg: fmt.Sprintf("expected the path of a plugin executable (got %s)", got(x[k]))})
					continue
				}
				p := s
				if !filepath.IsAbs(p) {
					p = filepath.Join(l.dir, p)
				}
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
				if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
					probs = append(probs, problem{key: path + ".path", msg: fmt.Sprintf("expected an executable file, relative paths from the experiment file's directory (got %q: %s)", s, statProblem(fi, err))})
					continue
				}
				ref.Path = p
			case "sha256":
				s, ok := x[k].(string)
				if !ok || !hexRE.MatchString(s) {
					probs = append(probs, problem{key: path + ".sha256", msg: fmt.Sprintf("expected 64 lower-case hex digits (got %s)", got(x[k]))})
					continue
				}
				ref.SHA256 = s
			case "config":
				c, ok := x[k].(map[string]any)
				if !ok {
					probs = append(probs, problem{key: path + ".config", msg: fmt.Sprintf("expected a table (got %s)", got(x[k]))})
					continue
				}
				ref.Config = c
			default:
				probs = append(probs, problem{key: joinKey(path, k), unknown: true, msg: unknownMsg("key", k, pluginKeys) + "; plugin settings go in the config table"})
			}
		}
		if _, has := x["plugin"]; !has {
			if slot.Default != "" {
				ref.Name = slot.Default // a config for the default plugin
				present = false
			} else {
				probs = append(probs, problem{key: path + ".plugin", msg: fmt.Sprintf("missing required value (expected the name of a %s plugin)", slot.Kind)})
			}
		}
		if ref.SHA256 != "" && x["path"] == nil {
			probs = append(probs, problem{key: path + ".sha256", msg: "a checksum needs the plugin's path (expected path = \"...\" beside sha256)"})
		}
		if len(probs) > 0 {
			return nil, nil, probs
		}
	default:
		return nil, nil, []problem{{key: path, msg: fmt.Sprintf(`expected a plugin name or a table with plugin = "NAME" (got %s)`, got(v))}}
	}
	r := l.validatePlugin(ref)
	if len(r.probs) > 0 {
		probs := make([]problem, len(r.probs))
		for i, p := range r.probs {
			probs[i] = problem{key: path + "." + p.key, msg: p.msg}
			if !present && p.key == "plugin" {
				// A default plugin the file does not name: point at the stage.
				probs[i] = problem{key: path, msg: fmt.Sprintf("default %s plugin %q: %s", slot.Kind, ref.Name, p.msg)}
			}
		}
		return nil, nil, probs
	}
	ref.Config = r.resolved
	res := map[string]any{"plugin": ref.Name, "config": deepCopy(ref.Config)}
	if ref.Path != "" {
		res["path"] = ref.Path
	}
	if ref.SHA256 != "" {
		res["sha256"] = ref.SHA256
	}
	return ref, res, nil
}

// validatePlugin runs the registry's plugin validator, once per distinct
// plugin and config (grids repeat them across arms, and the real validator
// may start a plugin process).
func (l *loader) validatePlugin(ref *PluginRef) pluginResult {
	v := l.reg.plugins
	if v == nil {
		return pluginResult{resolved: ref.Config}
	}
	memo := canonicalKey([]any{ref.Kind, ref.Name, ref.Path, ref.SHA256, ref.Config, ref.Env})
	if r, ok := l.plugins[memo]; ok {
		return r
	}
	var r pluginResult
	fallback := "plugin"
	if len(ref.Config) > 0 {
		fallback = "config"
	}
	for _, e := range v.Validate(l.ctx, *ref) {
		if errors.Is(e, ErrUnknownPlugin) {
			r.probs = append(r.probs, problem{key: "plugin", msg: e.Error()})
			continue
		}
		if key, msg, ok := table.CutKey(e.Error()); ok && !hasKeyType(e) {
			// The plugin SDK's wording of a key's problem, as text (all that
			// crosses the plugin wire): `NAME config: key "k": message`.
			r.probs = append(r.probs, problem{key: table.JoinPath("config", key), msg: msg})
			continue
		}
		r.probs = append(r.probs, fieldProblems(e, "config", fallback)...)
	}
	r.resolved = ref.Config
	if d, ok := v.(PluginDefaulter); ok && len(r.probs) == 0 {
		resolved, err := d.Defaults(l.ctx, *ref)
		if err != nil {
			r.probs = append(r.probs, problem{key: fallback, msg: err.Error()})
		} else if resolved != nil {
			r.resolved = normalizeRaw(deepCopy(resolved)).(map[string]any)
		}
	}
	l.plugins[memo] = r
	return r
}

// fileOrder returns the keys of table m (at key path parent) in the order
// they appear in the file; keys the file does not have (set by a grid axis)
// come last, sorted.
func (l *loader) fileOrder(parent string, m map[string]any) []string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		pi, iok := l.pos.index[joinKey(parent, keys[i])]
		pj, jok := l.pos.index[joinKey(parent, keys[j])]
		if iok != jok {
			return iok
		}
		return pi < pj
	})
	return keys
}

// hasKeyType reports whether e names its key by type (*FieldError or a
// ConfigKey method) rather than only in its text.
func hasKeyType(e error) bool {
	var fe *FieldError
	var keyed interface{ ConfigKey() string }
	return errors.As(e, &fe) || errors.As(e, &keyed)
}

func normalizeValue(settings any) (any, bool) {
	return normalize(reflect.ValueOf(settings))
}

func statProblem(fi os.FileInfo, err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case err != nil:
		return err.Error()
	case fi.IsDir():
		return "a directory"
	}
	return "not executable"
}

// oneOf lists registered names for a message.
func oneOf[V any](m map[string]V) string {
	if len(m) == 0 {
		return "one of the registered kinds, but none are registered"
	}
	if len(m) == 1 {
		return fmt.Sprintf("%q", sortedKeys(m)[0])
	}
	return "one of: " + strings.Join(sortedKeys(m), ", ")
}
