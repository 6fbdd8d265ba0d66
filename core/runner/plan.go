package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pit-lab/pit/core/results"
)

// Plan is an expanded experiment: the runs of its grid.
type Plan struct {
	Experiment string    // the experiment's name
	Runs       []RunSpec // in the order they should preferably finish
}

// RunSpec is one run of the grid: one arm and one seed.
type RunSpec struct {
	ID       string         // directory name under the experiment, unique in the plan
	Arm      string         // arm label, shared by the seeds of one arm
	Seed     int64          // root seed
	Baseline bool           // the baseline arm
	Factors  map[string]any // grid axis -> value
	Config   []byte         // the resolved experiment (config.toml)
	Stages   []StageSpec
}

// StageSpec is one stage of a run.
type StageSpec struct {
	Name string // the stage's name in the run; its artefacts' name
	Kind string // registered Kind; the name if empty
	// Needs names the stages of this run whose artefacts it reads; the
	// Kind's Needs if nil.
	Needs []string
	// Settings is passed to the stage's Run as Context.Settings.
	Settings any
	// Sections is passed as Context.Sections: the decoded extra sections
	// the kind Reads.
	Sections map[string]any
	// Config is the canonical encoding of everything in the run's
	// configuration that the stage reads: its own settings table with its
	// plugin choices and their configs, and the task and model tables. It
	// is hashed into the cache key, so it must be deterministic (sorted
	// keys) and complete.
	Config string
	// Plugins are the plugins the experiment chose for the kind's slots.
	Plugins []PluginSpec
	// Task and Model are passed to the stage's Run as Context.Task and
	// Context.Model; Config must encode them.
	Task, Model any
	// InitFrom and InitPath are passed as Context.InitFrom and
	// Context.InitPath (see there). A stage named by InitFrom must be in
	// Needs; the content of InitPath must enter Config.
	InitFrom, InitPath string
}

// PluginSpec is a plugin chosen for a stage's slot.
type PluginSpec struct {
	Slot   string         // "reward", "algorithm" or "curriculum"
	Name   string         // plugin name
	Path   string         // executable of an external plugin; "" for a built-in
	SHA256 string         // pinned checksum of Path, optional
	Config map[string]any // its config table
}

// Plugin is a launched plugin process. The stage type-asserts it to the
// client type of its kind.
type Plugin interface {
	Close() error
}

// PluginHost identifies and launches plugins. plugins/host provides the real
// one.
type PluginHost interface {
	// Identify returns a plugin's identity (name, version, SHA-256 of the
	// executable serving it); it enters cache keys and manifests.
	Identify(ctx context.Context, spec PluginSpec) (results.PluginIdentity, error)
	// Launch starts the plugin in its own process and configures it. models
	// is the model service offered to it (nil if none).
	Launch(ctx context.Context, spec PluginSpec, seed int64, models any) (Plugin, error)
}

// check validates the plan against the registry: known kinds, needs that
// exist in the run, no cycles, plugin slots that match the kinds. It returns
// every problem found.
func (p *Plan) check(reg *Registry) error {
	var errs []error
	if p.Experiment == "" {
		errs = append(errs, errors.New("plan: experiment has no name"))
	}
	ids := map[string]bool{}
	for _, r := range p.Runs {
		if r.ID == "" {
			errs = append(errs, errors.New("plan: a run has no ID"))
		} else if ids[r.ID] {
			errs = append(errs, fmt.Errorf("plan: run ID %q appears twice", r.ID))
		}
		ids[r.ID] = true
		if strings.Contains(r.ID, "..") || strings.HasPrefix(r.ID, "/") || strings.HasPrefix(r.ID, ".") {
			errs = append(errs, fmt.Errorf("plan: run ID %q is not a relative directory name", r.ID))
		}
		names := map[string]*StageSpec{}
		for i := range r.Stages {
			s := &r.Stages[i]
			if _, dup := names[s.Name]; dup {
				errs = append(errs, fmt.Errorf("run %s: stage %q appears twice", r.ID, s.Name))
			}
			names[s.Name] = s
		}
		for i := range r.Stages {
			s := &r.Stages[i]
			if s.Name == "" || strings.ContainsAny(s.Name, `/\`) || strings.HasPrefix(s.Name, ".") {
				errs = append(errs, fmt.Errorf("run %s: bad stage name %q", r.ID, s.Name))
				continue
			}
			k, ok := reg.Lookup(s.kind())
			if !ok {
				errs = append(errs, fmt.Errorf("run %s: stage %s: unknown stage kind %q", r.ID, s.Name, s.kind()))
				continue
			}
			for _, n := range s.needs(k) {
				if _, ok := names[n]; !ok {
					errs = append(errs, fmt.Errorf("run %s: stage %s needs stage %q, which the run does not have", r.ID, s.Name, n))
				}
			}
			have := map[string]bool{}
			var slots []string
			for _, sl := range k.Plugins {
				slots = append(slots, sl.Kind)
			}
			for _, pl := range s.Plugins {
				if have[pl.Slot] {
					errs = append(errs, fmt.Errorf("run %s: stage %s: two plugins for slot %q", r.ID, s.Name, pl.Slot))
				}
				have[pl.Slot] = true
				if !slices.Contains(slots, pl.Slot) {
					errs = append(errs, fmt.Errorf("run %s: stage %s: kind %s has no plugin slot %q (it has %v)", r.ID, s.Name, k.Name, pl.Slot, slots))
				}
			}
			for _, sl := range k.Plugins {
				if !have[sl.Kind] && !sl.Optional {
					errs = append(errs, fmt.Errorf("run %s: stage %s: no plugin chosen for slot %q", r.ID, s.Name, sl.Kind))
				}
			}
		}
		if err := checkCycles(r, reg); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *StageSpec) kind() string {
	if s.Kind != "" {
		return s.Kind
	}
	return s.Name
}

func (s *StageSpec) needs(k *Kind) []string {
	if s.Needs != nil {
		return s.Needs
	}
	return k.Needs
}

// order returns the run's stages in dependency order (stable: stages keep
// their listed order where the dependencies allow it).
func order(r RunSpec, reg *Registry) ([]*StageSpec, error) {
	idx := map[string]int{}
	for i := range r.Stages {
		idx[r.Stages[i].Name] = i
	}
	const (
		unseen = iota
		visiting
		visited
	)
	state := make([]int, len(r.Stages))
	var out []*StageSpec
	var visit func(i int, path []string) error
	visit = func(i int, path []string) error {
		s := &r.Stages[i]
		switch state[i] {
		case visited:
			return nil
		case visiting:
			return fmt.Errorf("run %s: stages depend on each other in a cycle: %s", r.ID, strings.Join(append(path, s.Name), " -> "))
		}
		state[i] = visiting
		k, _ := reg.Lookup(s.kind())
		if k != nil {
			for _, n := range s.needs(k) {
				j, ok := idx[n]
				if !ok {
					continue
				}
				if err := visit(j, append(path, s.Name)); err != nil {
					return err
				}
			}
		}
		state[i] = visited
		out = append(out, s)
		return nil
	}
	for i := range r.Stages {
		if err := visit(i, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func checkCycles(r RunSpec, reg *Registry) error {
	_, err := order(r, reg)
	return err
}
