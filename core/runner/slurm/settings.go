// Package slurm runs a pit grid's stages as Slurm jobs over a shared
// results directory.
//
// Submit maps the plan's stage DAG (runner.Instances) onto Slurm: every
// stage instance that the cache does not hold and that no live job is
// computing becomes one task of a job array (siblings, i.e. instances of one
// stage that wait for the same jobs, share an array), with
// --dependency=afterok: edges to the jobs computing its inputs, so a shared
// upstream stage is computed once and its dependants wait for it. A task
// runs "pit slurm-job" on its node, which calls RunJob: it computes the one
// instance with runner.ComputeInstance (atomic cache commit under a
// per-key lock) and rewrites the results of the runs that use it
// (runner.SyncRuns).
//
// Each instance's job is recorded in <dir>/.executor/slurm/<stage>/<key>.json
// (the submitter writes the job id, the job's wrapper its own state), and
// every run's manifest carries the ids of its stages' jobs (Extra
// "slurm.job.<stage>"), so pit status can show Slurm states after the
// submitting process has exited, and a later Submit resubmits only what is
// missing or failed. Job states come from "scontrol show job" and from the
// records; sacct (which needs a database daemon) is not used.
package slurm

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pit-lab/pit/core/experiment"
)

// Section is the experiment file's table that chooses the executor.
const Section = "executor"

// Executor kinds.
const (
	Local = "local"
	Slurm = "slurm"
)

// Settings is the [executor] table of an experiment file.
type Settings struct {
	// Kind is "local" (the default: a worker pool in the pit process) or
	// "slurm".
	Kind string `toml:"kind"`
	// Partition, Account, Time ("HH:MM:SS", "D-HH:MM" ...), Mem ("4G")
	// and Gres ("gpu:1") are passed to sbatch when set.
	Partition string `toml:"partition"`
	Account   string `toml:"account"`
	Time      string `toml:"time"`
	CPUs      int    `toml:"cpus"`
	Mem       string `toml:"mem"`
	Gres      string `toml:"gres"`
	// Flags are extra sbatch flags, e.g. ["--qos=short", "--constraint=avx2"].
	Flags []string `toml:"flags"`
	// MaxConcurrent limits the tasks of one job array that run at once
	// (--array=...%N); 0: no limit.
	MaxConcurrent int `toml:"max_concurrent"`
}

func init() {
	experiment.RegisterSection(Section, func() any { return &Settings{Kind: Local} })
}

var timeRE = regexp.MustCompile(`^(\d+-)?\d+(:\d+){0,2}$|^\d+-\d+$`)

// Validate checks the table.
func (s *Settings) Validate() error {
	var errs []error
	switch s.Kind {
	case Local, Slurm:
	default:
		errs = append(errs, experiment.Errorf("kind", "%q: want %q or %q", s.Kind, Local, Slurm))
	}
	if s.CPUs < 0 {
		errs = append(errs, experiment.Errorf("cpus", "%d: want at least 1 (or 0 for the cluster's default)", s.CPUs))
	}
	if s.MaxConcurrent < 0 {
		errs = append(errs, experiment.Errorf("max_concurrent", "%d: want at least 1 (or 0 for no limit)", s.MaxConcurrent))
	}
	if s.Time != "" && !timeRE.MatchString(s.Time) {
		errs = append(errs, experiment.Errorf("time", "%q: want a Slurm time limit such as \"30\", \"2:00:00\" or \"1-12:00\"", s.Time))
	}
	for _, f := range s.Flags {
		if !strings.HasPrefix(f, "-") {
			errs = append(errs, experiment.Errorf("flags", "%q: want an sbatch flag starting with -", f))
		}
		for _, own := range []string{"--array", "--dependency", "--output", "--error", "--parsable", "--wrap"} {
			if f == own || strings.HasPrefix(f, own+"=") {
				errs = append(errs, experiment.Errorf("flags", "%q: pit sets %s itself", f, own))
			}
		}
	}
	return errors.Join(errs...)
}

// sbatchArgs are the flags the settings give every job.
func (s *Settings) sbatchArgs() []string {
	var a []string
	add := func(flag, v string) {
		if v != "" {
			a = append(a, flag+"="+v)
		}
	}
	add("--partition", s.Partition)
	add("--account", s.Account)
	add("--time", s.Time)
	if s.CPUs > 0 {
		add("--cpus-per-task", fmt.Sprint(s.CPUs))
	}
	add("--mem", s.Mem)
	add("--gres", s.Gres)
	return append(a, s.Flags...)
}

// FromExperiment returns the [executor] table of an experiment's baseline
// arm, or the defaults if the file has none.
func FromExperiment(exp *experiment.Experiment) *Settings {
	if b := exp.Baseline(); b != nil {
		if s, ok := b.Config.Sections[Section].(*Settings); ok {
			return s
		}
	}
	return &Settings{Kind: Local}
}
