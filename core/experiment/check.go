package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Preflight checks are the problems that no single table of a file shows
// but that a run would hit after work: a stage whose inputs no other stage
// produces, plugins of two stages that cannot work together, paths the file
// system cannot create, a model that does not fit in memory. Load cannot
// see them (they need the whole arm, the machine or the plugins), so pit
// validate and pit run both call Preflight after Load, and every check
// lives behind that one function: the two commands cannot disagree.

// CheckEnv is what a check knows about where the experiment will run.
type CheckEnv struct {
	// ResultsDir is the experiment's results directory for this
	// invocation: <out>/<name>, where pit run --out may move <out>.
	ResultsDir string
	// CacheDir is the stage cache's directory (checkpoints are the deepest
	// paths a run creates); ResultsDir/.cache when empty.
	CacheDir string
	// MemAvailable is the memory the machine can give the run, in bytes
	// (MemAvailable of /proc/meminfo on Linux); 0 when unknown, and checks
	// that need it then skip.
	MemAvailable uint64
}

// MachineEnv is the CheckEnv of this machine for results in resultsDir:
// its available memory (Linux; unknown elsewhere).
func MachineEnv(resultsDir string) CheckEnv {
	return CheckEnv{ResultsDir: resultsDir, MemAvailable: memAvailable()}
}

// Problem is one problem a Check finds in an arm. Key is a key path of the
// experiment tree (as in Error.Key): Preflight reports the problem at that
// key's line. Hint says what to change.
type Problem struct {
	Key  string
	Msg  string
	Hint string
}

// Check inspects one arm's resolved configuration before any work starts.
// It must not start work of its own beyond what validation needs (a plugin
// may be launched to describe itself). Checks run once per arm, so a check
// that is costly per plugin should memoise by plugin reference.
type Check func(ctx context.Context, arm *Arm, env CheckEnv) []Problem

type namedCheck struct {
	name string
	fn   Check
}

// RegisterCheck adds a named check that Preflight runs on every arm. It
// panics when the name is taken.
func (r *Registry) RegisterCheck(name string, c Check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, nc := range r.checks {
		if nc.name == name {
			panic(fmt.Sprintf("experiment: check %q registered twice", name))
		}
	}
	r.checks = append(r.checks, namedCheck{name, c})
}

// RegisterCheck adds a check to DefaultRegistry.
func RegisterCheck(name string, c Check) { DefaultRegistry.RegisterCheck(name, c) }

// Preflight runs every check of DefaultRegistry on exp; see
// Registry.Preflight.
func Preflight(ctx context.Context, exp *Experiment, env CheckEnv) error {
	return DefaultRegistry.Preflight(ctx, exp, env)
}

// Preflight runs the built-in checks (stage dependencies, path lengths) and
// every registered check on each arm of a loaded experiment. Problems come
// back as an ErrorList at file:line like Load's, a problem found in some
// arms only naming them; nil means a run would not refuse the experiment
// for any reason the checks know.
func (r *Registry) Preflight(ctx context.Context, exp *Experiment, env CheckEnv) error {
	r.mu.RLock()
	checks := append([]namedCheck{{"needs", r.checkNeeds}}, r.checks...)
	r.mu.RUnlock()

	type finding struct {
		p    Problem
		arms []string
	}
	found := map[Problem]*finding{}
	var order []Problem
	add := func(p Problem, arm string) {
		f, ok := found[p]
		if !ok {
			f = &finding{p: p}
			found[p] = f
			order = append(order, p)
		}
		if n := len(f.arms); n == 0 || f.arms[n-1] != arm {
			f.arms = append(f.arms, arm)
		}
	}
	for i := range exp.Arms {
		arm := &exp.Arms[i]
		if arm.Config == nil {
			continue
		}
		for _, c := range checks {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("experiment: %s: %w", exp.File, err)
			}
			for _, p := range c.fn(ctx, arm, env) {
				add(p, arm.Label)
			}
		}
	}
	var list ErrorList
	for _, p := range order {
		f := found[p]
		e := &Error{File: exp.File, Key: p.Key, Msg: p.Msg}
		if exp.pos != nil {
			e.Line = exp.pos.lookup(p.Key)
		}
		if len(exp.Arms) > 1 && len(f.arms) < len(exp.Arms) {
			e.Msg += armNote(f.arms, len(exp.Arms))
		}
		if p.Hint != "" {
			e.Msg += "; " + p.Hint
		}
		list = append(list, e)
	}
	list = append(list, pathProblems(exp, env)...)
	if len(list) == 0 {
		return nil
	}
	return list.sortAndDedup()
}

// checkNeeds reports stages whose kind reads the artefacts of a stage the
// arm does not have.
func (r *Registry) checkNeeds(_ context.Context, arm *Arm, _ CheckEnv) []Problem {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var probs []Problem
	for _, st := range arm.Config.Stages {
		for _, need := range r.stages[st.Kind].Needs {
			if _, ok := arm.Config.Stage(need); ok {
				continue
			}
			probs = append(probs, Problem{
				Key:  joinKey("stages", st.Name),
				Msg:  fmt.Sprintf("stage kind %s reads the artefacts of a stage named %q, and there is none", st.Kind, need),
				Hint: fmt.Sprintf("add a [stages.%s] table (or remove this stage)", need),
			})
		}
	}
	return probs
}

// Longest names pit adds below the results directory: a cache entry's
// scratch directory (".scratch-" and a 64-digit key) and a file name in a
// stage's directory (checkpoints, tables; generous).
const (
	scratchDirLen = len(".scratch-") + 64
	fileNameAllow = 64
)

// pathProblems reports names longer than the file system allows in one
// path component (NAME_MAX) and paths longer than PATH_MAX, for everything
// a run creates under env.ResultsDir. They concern the whole file, not an
// arm.
func pathProblems(exp *Experiment, env CheckEnv) ErrorList {
	if env.ResultsDir == "" {
		return nil
	}
	nameMax, pathMax := pathLimits(env.ResultsDir)
	var list ErrorList
	add := func(key, msg string) {
		e := &Error{File: exp.File, Key: key, Msg: msg}
		if exp.pos != nil {
			e.Line = exp.pos.lookup(key)
		}
		list = append(list, e)
	}
	if n := len(exp.Name); n > nameMax {
		add("name", fmt.Sprintf("%d bytes long, but the results' file system allows names of at most %d bytes (NAME_MAX), so the results directory could not be created; choose a shorter name",
			n, nameMax))
		return list // every path below would repeat it
	}
	abs, err := filepath.Abs(env.ResultsDir)
	if err != nil {
		abs = env.ResultsDir
	}
	for _, part := range strings.Split(filepath.ToSlash(abs), "/") {
		if len(part) > nameMax {
			key := "out"
			if exp.pos == nil || !exp.pos.has(key) {
				key = "name"
			}
			add(key, fmt.Sprintf("the results directory %s has a %d-byte component, but the file system allows at most %d bytes (NAME_MAX); choose a shorter out (or pit run --out)", abs, len(part), nameMax))
			return list
		}
	}
	// The deepest paths a run creates: a checkpoint in a cache entry's
	// scratch directory, and a file in a run's stage directory.
	cacheAbs := filepath.Join(abs, ".cache")
	if env.CacheDir != "" {
		if c, err := filepath.Abs(env.CacheDir); err == nil {
			cacheAbs = c
		}
	}
	longest, what := 0, ""
	stages := map[string]bool{}
	for _, a := range exp.Arms {
		if a.Config == nil {
			continue
		}
		for _, st := range a.Config.Stages {
			if stages[st.Name] {
				continue
			}
			stages[st.Name] = true
			if len(st.Name) > nameMax {
				add(joinKey("stages", st.Name), fmt.Sprintf("stage name is %d bytes long, but the file system allows names of at most %d bytes (NAME_MAX); choose a shorter name", len(st.Name), nameMax))
			}
			if n := len(cacheAbs) + 1 + len(st.Name) + 1 + scratchDirLen + 1 + fileNameAllow; n > longest {
				longest, what = n, "checkpoints of stage "+st.Name
			}
		}
	}
	runs, err := Expand(exp)
	if err == nil {
		maxRun, maxStage := 0, 0
		for _, r := range runs {
			maxRun = max(maxRun, len(r.ID))
		}
		for name := range stages {
			maxStage = max(maxStage, len(name))
		}
		if n := len(abs) + 1 + maxRun + len("/stages/") + maxStage + 1 + fileNameAllow; n > longest {
			longest, what = n, "the run directories' stage files"
		}
	}
	if longest > pathMax {
		key := "out"
		if exp.pos == nil || !exp.pos.has(key) {
			key = "name"
		}
		add(key, fmt.Sprintf("the %s would need paths of about %d bytes under %s, but the file system allows at most %d (PATH_MAX); choose a shorter out (or pit run --out), name or stage names",
			what, longest, abs, pathMax))
	}
	return list
}

// existingAncestor returns dir, or its nearest ancestor that exists.
func existingAncestor(dir string) string {
	d := filepath.Clean(dir)
	for {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return d
		}
		d = parent
	}
}
