package runner

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/experiment"
)

// registerSchema tells the experiment package about a stage kind of the
// default registry, so that experiment files can use it: its settings type
// and plugin slots.
func registerSchema(k Kind) {
	var slots []experiment.Slot
	for _, s := range k.Plugins {
		slots = append(slots, experiment.Slot{Kind: s.Kind, Required: !s.Optional, Default: s.Default})
	}
	experiment.RegisterStage(k.Name, experiment.StageKind{New: k.Settings, Plugins: slots, Doc: k.Doc,
		InitFrom: k.InitFrom, CheckInit: k.CheckInit, Model: k.Model, Needs: k.Needs})
}

// PlanFor turns an experiment's expanded runs (experiment.Expand) into a
// Plan for Execute, using the default registry. Each stage's key material
// (StageSpec.Config) is the canonical encoding of its own resolved table
// (settings, plugin choices and configs), of the task and model tables, and
// of the sections its kind Reads.
func PlanFor(exp *experiment.Experiment, runs []experiment.Run) (Plan, error) {
	return planFor(Default, exp, runs)
}

func planFor(reg *Registry, exp *experiment.Experiment, runs []experiment.Run) (Plan, error) {
	p := Plan{Experiment: exp.Name}
	var missing []error
	seen := map[string]bool{}
	for _, r := range runs {
		for _, st := range r.Config.Stages {
			k, ok := reg.Lookup(st.Kind)
			if !ok {
				continue
			}
			for _, need := range k.Needs {
				if _, ok := r.Config.Stage(need); !ok && !seen[st.Name+"\x00"+need] {
					seen[st.Name+"\x00"+need] = true
					missing = append(missing, fmt.Errorf("%s: stages.%s: stage kind %s reads the artefacts of a stage named %q, and there is none; add a [stages.%s] table (or remove this stage)", exp.File, st.Name, st.Kind, need, need))
				}
			}
		}
	}
	if len(missing) > 0 {
		return p, errors.Join(missing...)
	}
	inputs := inputHasher{}
	for _, r := range runs {
		cfg, err := r.TOML()
		if err != nil {
			return p, fmt.Errorf("run %s: %w", r.ID, err)
		}
		spec := RunSpec{ID: r.ID, Arm: r.Arm, Seed: r.Seed, Baseline: r.Baseline, Factors: r.FactorMap(), Config: cfg}
		tree := r.Tree()
		for _, st := range r.Config.Stages {
			k, ok := reg.Lookup(st.Kind)
			if !ok {
				return p, fmt.Errorf("run %s: stage %s: kind %q is known to the experiment schema but has no runner implementation", r.ID, st.Name, st.Kind)
			}
			paths := []string{"stages." + st.Name, "task"}
			if _, ok := tree["model"]; ok {
				paths = append(paths, "model")
			}
			for _, s := range k.Reads {
				if _, ok := tree[s]; ok {
					paths = append(paths, s)
				}
			}
			var key []byte
			for _, path := range paths {
				b, err := experiment.Canonical(r, path)
				if err != nil {
					return p, fmt.Errorf("run %s: stage %s: %w", r.ID, st.Name, err)
				}
				key = fmt.Appendf(key, "[[%s]]\n%s\n", path, b)
			}
			files, err := inputs.key(r.Config)
			if err != nil {
				return p, fmt.Errorf("run %s: stage %s: %w", r.ID, st.Name, err)
			}
			key = append(key, files...)
			ss := StageSpec{Name: st.Name, Kind: st.Kind, Settings: st.Settings, Config: string(key), Task: r.Config.Task.Settings}
			if r.Config.Model != nil {
				ss.Model = r.Config.Model.Settings
			}
			for _, name := range k.Reads {
				if v, ok := r.Config.Sections[name]; ok {
					if ss.Sections == nil {
						ss.Sections = map[string]any{}
					}
					ss.Sections[name] = v
				}
			}
			for _, pl := range st.Plugins {
				ss.Plugins = append(ss.Plugins, PluginSpec{Slot: pl.Kind, Name: pl.Name, Path: pl.Path, SHA256: pl.SHA256, Config: pl.Config})
			}
			switch {
			case st.InitPath != "":
				// The file's content, not its name, is what the stage reads.
				sum, err := cache.FileSHA256(st.InitPath)
				if err != nil {
					return p, fmt.Errorf("run %s: stage %s: init_from: %w", r.ID, st.Name, err)
				}
				ss.InitPath = st.InitPath
				ss.Config += fmt.Sprintf("[[init_from]]\nsha256 = %q\n", sum)
			case k.InitFrom != "" && st.InitFrom != experiment.InitScratch && st.InitFrom != "":
				ss.InitFrom = st.InitFrom
				if !slices.Contains(k.Needs, st.InitFrom) {
					ss.Needs = append(slices.Clone(k.Needs), st.InitFrom)
				}
			case k.InitFrom != "":
				ss.InitFrom = experiment.InitScratch
			}
			spec.Stages = append(spec.Stages, ss)
		}
		p.Runs = append(p.Runs, spec)
	}
	return p, nil
}

// inputHasher hashes the files the task and model settings read
// (experiment.InputFiles) once per plan: a pretrained checkpoint is large,
// and every stage of every run keys on it.
type inputHasher map[string]string

// key returns the key material of cfg's input files: each file's SHA-256
// under its base name, in the order the settings list them.
func (h inputHasher) key(cfg *experiment.Config) ([]byte, error) {
	var out []byte
	for _, sec := range []*experiment.Section{&cfg.Task, cfg.Model} {
		if sec == nil {
			continue
		}
		in, ok := sec.Settings.(experiment.InputFiles)
		if !ok {
			continue
		}
		files, err := in.InputFiles()
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			sum, ok := h[f]
			if !ok {
				if sum, err = cache.FileSHA256(f); err != nil {
					return nil, fmt.Errorf("input file: %w", err)
				}
				h[f] = sum
			}
			out = fmt.Appendf(out, "[[input]]\nfile = %q\nsha256 = %q\n", filepath.Base(f), sum)
		}
	}
	return out, nil
}
