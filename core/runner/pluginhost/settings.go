package pluginhost

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pit-lab/pit/core/experiment"
	"github.com/pit-lab/pit/plugins/host"
)

// Section is the name of the experiment file's optional table that sets
// the plugin fault policy and the environment plugins get:
//
//	[plugins]
//	call_timeout = "2m"  # a plugin that has not answered a call by then is killed
//	retries = 2          # restarts (with the state restored) before a call fails
//	max_restarts = 10    # restarts of one plugin within a stage
//	env = ["HF_HOME"]    # host variables passed on besides host.DefaultEnv
const Section = "plugins"

// Settings is the decoded [plugins] section.
type Settings struct {
	CallTimeout time.Duration `toml:"call_timeout"`
	Retries     int           `toml:"retries"`
	MaxRestarts int           `toml:"max_restarts"`
	// Env names the host's environment variables plugins get besides
	// PATH, HOME, LANG and TMPDIR (host.DefaultEnv); the rest of the
	// host's environment never reaches a plugin.
	Env []string `toml:"env"`
}

// Validate reports bad settings.
func (s *Settings) Validate() error {
	var errs []error
	if s.CallTimeout < 0 {
		errs = append(errs, &experiment.FieldError{Key: "call_timeout", Msg: fmt.Sprintf("must be ≥ 0 (0: no deadline), got %s", s.CallTimeout)})
	}
	if s.CallTimeout > 0 && s.CallTimeout < 100*time.Millisecond {
		errs = append(errs, &experiment.FieldError{Key: "call_timeout", Msg: fmt.Sprintf("%s is too short for any plugin call (want at least 100ms)", s.CallTimeout)})
	}
	if s.Retries < 0 || s.Retries > 100 {
		errs = append(errs, &experiment.FieldError{Key: "retries", Msg: fmt.Sprintf("must be between 0 and 100, got %d", s.Retries)})
	}
	if s.MaxRestarts < 0 {
		errs = append(errs, &experiment.FieldError{Key: "max_restarts", Msg: fmt.Sprintf("must be ≥ 0 (0: no limit besides retries), got %d", s.MaxRestarts)})
	}
	for i, name := range s.Env {
		if err := host.CheckEnvName(name); err != nil {
			errs = append(errs, &experiment.FieldError{Key: fmt.Sprintf("env[%d]", i), Msg: err.Error()})
		}
	}
	return errors.Join(errs...)
}

// Policy returns the fault policy the settings describe.
func (s *Settings) Policy() host.Policy {
	return host.Policy{CallTimeout: s.CallTimeout, Retries: s.Retries, MaxRestarts: s.MaxRestarts}
}

func init() {
	experiment.RegisterSection(Section, func() any {
		return &Settings{CallTimeout: DefaultPolicy.CallTimeout, Retries: DefaultPolicy.Retries, MaxRestarts: DefaultPolicy.MaxRestarts}
	})
}

// PolicyFor returns the fault policy of an experiment's runs: that of their
// [plugins] section, or DefaultPolicy. The section applies to the whole
// invocation, so runs that disagree about it (a grid axis over it) are an
// error.
func PolicyFor(runs []experiment.Run) (host.Policy, error) {
	pol, first := DefaultPolicy, true
	for _, r := range runs {
		p := DefaultPolicy
		if s, ok := r.Config.Sections[Section].(*Settings); ok {
			p = s.Policy()
		}
		if !first && p != pol {
			return pol, fmt.Errorf("[%s]: runs of one experiment must share the plugin fault policy (a grid axis over it is not supported)", Section)
		}
		pol, first = p, false
	}
	return pol, nil
}

// EnvFor returns the [plugins] env names of an experiment's runs (nil
// without the section). Like the fault policy it applies to the whole
// invocation: runs that disagree are an error.
func EnvFor(runs []experiment.Run) ([]string, error) {
	var env []string
	for i, r := range runs {
		var e []string
		if s, ok := r.Config.Sections[Section].(*Settings); ok {
			e = s.Env
		}
		if i > 0 && !slices.Equal(e, env) {
			return nil, fmt.Errorf("[%s] env: runs of one experiment must pass plugins the same environment (a grid axis over it is not supported)", Section)
		}
		env = e
	}
	return env, nil
}
