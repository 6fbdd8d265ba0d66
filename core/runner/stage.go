// Package runner runs an experiment's grid: every run is a DAG of stages
// (sft, rm, rlhf, ... or any registered Kind), the stage instances of all runs
// are deduplicated by their content-addressed cache key, and a pool of
// workers computes the missing ones while the others are reused from the
// cache (package cache).
//
// # Writing a stage
//
// A stage is a Kind registered from an init function:
//
//	func init() {
//		runner.Register(runner.Kind{
//			Name:     "rm",
//			Needs:    []string{"sft"},        // artefacts it reads
//			Plugins:  []runner.Slot{{Kind: "reward"}}, // plugin slots it uses
//			Settings: func() any { return &Settings{Steps: 1000} },
//			Run:      run,
//		})
//	}
//
//	func run(c *runner.Context) error {
//		s := c.Settings.(*Settings)
//		rng := c.Rand("init")                   // from the run's seed; reproducible
//		base := c.Input("sft")                  // the sft stage's artefact directory
//		for step := 1; step <= s.Steps; step++ {
//			if err := c.Err(); err != nil {       // interrupted (SIGINT/SIGTERM)
//				return err
//			}
//			...
//			c.Metric(step, "loss", loss)
//			c.Progress(step, s.Steps)
//		}
//		return os.WriteFile(filepath.Join(c.Out, "model.bin"), weights, 0o644)
//	}
//
// Everything a stage writes goes under c.Out, a temporary directory that the
// runner renames into the cache only when Run returns nil: a stage killed
// half-way leaves nothing behind, and a rerun starts it again from scratch.
// A stage must read only what enters its key: its settings (and the task and
// model tables, see StageSpec.Config), its inputs' artefacts, its plugins and
// its seeds. It is not told which run it belongs to, because one computed
// stage serves every run whose key is equal.
//
// # Keys
//
// A stage instance's key hashes its kind (and Kind.Version), its name, its
// seed stream, StageSpec.Config (for experiment files: the canonical
// encoding of the stage's own table with its plugin choices and configs,
// the task and model tables, and the sections the kind Reads), the keys of
// its inputs, the identity of each plugin (name, version, SHA-256 of the
// executable serving it) and its config, and the code version (a hash of
// the source tree pit was built from, or of the executable, see
// CodeVersion): artefacts written by other code are never trusted, and a
// rebuild of the same code reuses them.
//
// # Results layout
//
//	<cache>/                       Options.Cache (pit run: the user's cache,
//	                               DefaultCacheDir, shared by every experiment)
//	    <stage>/<key>/             a committed stage instance: its artefacts,
//	                               metrics.jsonl, stage.log, entry.json (cache.Meta),
//	                               SHA256SUMS
//	    <stage>/.tmp-*             instances being computed (removed when
//	                               their process is gone)
//	    <stage>/.scratch-<key>/    checkpoints (Context.CheckpointDir)
//	    .locks/<stage>-<key>       held while a process computes the instance
//	    <stage>/.quarantine/       entries and checkpoints that failed their checksums
//	<out>/<experiment>/
//	    .lock                      held by the pit process running the grid
//	    <run>/config.toml          the run's resolved experiment
//	    <run>/manifest.json        results.Manifest: status, stage keys and
//	                               timings, plugin identities, code version
//	    <run>/metrics.jsonl        the metrics of the run's done stages
//	    <run>/stages/<stage>       link to the stage's cache entry
//	    <run>/eval.jsonl ...       files the kinds Publish
//
// # Interruption and resumption
//
// On SIGINT/SIGTERM (a cancelled context) running stages are cancelled,
// their temporary directories discarded, and unfinished runs marked
// interrupted. After a SIGKILL, temporary directories and a manifest still
// saying "running" remain; pit status reports such runs as interrupted.
// Either way, running the same grid again reuses every committed stage and
// computes the rest: a run's metrics.jsonl is rebuilt from its committed
// stages, so no line is lost or duplicated.
package runner

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"time"
)

// Kind is a registered stage kind.
type Kind struct {
	// Name identifies the kind in experiment files ([stages.<name>]).
	Name string
	// Doc is a one-line description.
	Doc string
	// Needs names the stages whose artefacts the stage reads. Each is
	// available in Context.Inputs under its name.
	Needs []string
	// Plugins are the plugin slots the stage uses. The experiment chooses a
	// plugin for each in the stage's table ([stages.rlhf.reward]).
	Plugins []Slot
	// Reads names the top-level sections of the experiment, besides task
	// and model (always included), whose contents enter the stage's key
	// because the stage reads them (for example "eval").
	Reads []string
	// Settings returns a new settings value (a pointer to a struct) holding
	// the defaults; the experiment file's [stages.<name>] table is decoded
	// into it. Nil if the stage has no settings.
	Settings func() any
	// Publish lists files of the stage's artefact directory that belong in
	// each run's results directory (for example "eval.jsonl"). The runner
	// copies them there, atomically, whenever the stage is done or reused;
	// a stage not named after its kind publishes them prefixed by its
	// name (PublishedName).
	Publish []string
	// InitFrom, when not empty, says that the stage trains a model that an
	// experiment may start from another stage's model or a checkpoint file
	// (the stage table's init_from key), and is the default source: a stage
	// name, or "scratch". A stage named there joins the stage's Needs (so
	// its key enters the stage's key); a file's SHA-256 enters the key.
	InitFrom string
	// CheckInit checks that a checkpoint file can initialise the stage's
	// model under the decoded task and model settings (pit validate reports
	// its error at the init_from line). Nil accepts any file.
	CheckInit func(path string, task, model any) error
	// Model says that the stage saves a model that init_from may name.
	Model bool
	// Version is part of the cache key: change it when the stage's code
	// changes what it writes, to invalidate old entries even when the code
	// version is pinned.
	Version string
	// Run computes the stage.
	Run func(*Context) error
}

// Slot is a plugin slot of a stage kind.
type Slot struct {
	Kind     string // plugin kind: "reward", "algorithm" or "curriculum"
	Optional bool   // the experiment may leave the slot empty
	Default  string // plugin used when the experiment names none
}

// Registry holds stage kinds by name.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]*Kind
}

// NewRegistry returns an empty registry (tests use their own; programs use
// the default one through Register and Lookup).
func NewRegistry() *Registry { return &Registry{kinds: map[string]*Kind{}} }

// Register adds a kind. It panics on a duplicate or incomplete kind, since
// that is a programming error found at init time.
func (r *Registry) Register(k Kind) {
	if k.Name == "" || k.Run == nil {
		panic("runner: Register: a kind needs a Name and a Run function")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[k.Name]; dup {
		panic("runner: stage kind registered twice: " + k.Name)
	}
	kk := k
	r.kinds[k.Name] = &kk
	if r == Default {
		registerSchema(kk)
	}
}

// Lookup returns the kind with this name.
func (r *Registry) Lookup(name string) (*Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[name]
	return k, ok
}

// Kinds returns the registered kinds sorted by name.
func (r *Registry) Kinds() []Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Kind, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Default is the registry of the stage kinds compiled into the program.
var Default = NewRegistry()

// Register adds a kind to the default registry and its settings schema to
// the experiment package's default registry, so experiment files can use it.
func Register(k Kind) { Default.Register(k) }

// Lookup finds a kind in the default registry.
func Lookup(name string) (*Kind, bool) { return Default.Lookup(name) }

// Context is what a stage's Run gets. It embeds the context.Context of the
// grid: it is cancelled on SIGINT/SIGTERM, and a stage should return
// promptly (with c.Err()) when it is.
type Context struct {
	context.Context

	// Stage is the stage's name in the experiment; Kind its kind.
	Stage string
	Kind  *Kind
	// Key is the stage's cache key (for logs; the output must not depend
	// on it).
	Key string
	// Settings is the decoded settings value (the type Kind.Settings
	// returns), or nil.
	Settings any
	// Task and Model are the decoded settings of the run's [task] and
	// [model] tables (the types their kinds registered with package
	// experiment), or nil when the plan has none. They enter the key.
	Task, Model any
	// Sections holds the decoded extra sections the kind Reads, by name
	// (absent if the experiment has none).
	Sections map[string]any
	// InitFrom is where a stage whose Kind has InitFrom starts its model:
	// "scratch", the name of a needed stage (read it with Input), or ""
	// with InitPath set to a checkpoint file.
	InitFrom, InitPath string
	// Inputs maps each needed stage's name to its artefact directory (read
	// only).
	Inputs map[string]string
	// Out is the directory to write the stage's artefacts into. The names
	// metrics.jsonl, stage.log and entry.json are the runner's.
	Out string
	// Log writes to the stage's log (stage.log in its artefact directory);
	// warnings and errors also reach the terminal.
	Log *slog.Logger

	scratch  string
	seed     int64 // the run's root seed
	metrics  *metricsWriter
	progress func(step, total int)
	plugins  func(slot string, models any) (Plugin, error)
	warn     func(string)
	started  time.Time
}

// Seed returns the seed of an independent random stream of this stage, named
// by purpose ("init", "data", "sampling", ...). It depends only on the run's
// root seed, the stage's name and purpose.
func (c *Context) Seed(purpose string) int64 {
	return SeedFor(c.seed, "stage", c.Stage, purpose)
}

// Rand returns a generator seeded with Seed(purpose).
func (c *Context) Rand(purpose string) *rand.Rand {
	return NewRand(c.Seed(purpose))
}

// RandSource returns the source of Rand(purpose): rand.New of it draws the
// same numbers, and its state can be saved with a checkpoint.
func (c *Context) RandSource(purpose string) *rand.PCG {
	return NewPCG(c.Seed(purpose))
}

// Input returns the artefact directory of the needed stage name. It panics
// if the stage's Kind does not list name in Needs (a programming error).
func (c *Context) Input(name string) string {
	d, ok := c.Inputs[name]
	if !ok {
		panic(fmt.Sprintf("runner: stage %s reads input %q that its kind does not list in Needs", c.Stage, name))
	}
	return d
}

// Metric logs one scalar. The stage's metrics are kept with its artefacts
// and copied into metrics.jsonl of every run that uses the stage.
func (c *Context) Metric(step int, name string, value float64) error {
	return c.metrics.log(step, name, value, time.Since(c.started).Seconds())
}

// CheckpointDir returns a directory, created if needed, that survives a
// killed or interrupted computation of this stage (Out does not): a long
// stage saves checkpoints there and, when it finds one on start, resumes
// from it. Resuming must give the same artefacts as an uninterrupted run
// (save the random generators' state with the weights). Metrics logged
// before the interruption are discarded with Out, so keep the ones a
// checkpoint covers in it and log them again on resume. The directory is
// removed when the stage's artefacts are committed, and before the stage
// starts under --force.
func (c *Context) CheckpointDir() (string, error) {
	if err := os.MkdirAll(c.scratch, 0o755); err != nil {
		return "", fmt.Errorf("runner: %w", err)
	}
	return c.scratch, nil
}

// Progress reports that step of total steps are done, for the progress
// display (steps per second, ETA). Cheap; call it every step.
func (c *Context) Progress(step, total int) {
	if c.progress != nil {
		c.progress(step, total)
	}
}

// Warn records a warning in the manifest of every run that uses the stage
// and logs it.
func (c *Context) Warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.Log.Warn(msg)
	if c.warn != nil {
		c.warn(msg)
	}
}

// Plugin launches the plugin the experiment chose for slot (the Kind of one
// of Kind.Plugins) in its own process, seeded from the run's seed, and returns
// its handle; the stage type-asserts it to the client type of the plugin
// kind. models is the model service the plugin may call back (nil if none).
// The runner kills the plugin when the stage ends; the stage may Close it
// earlier.
func (c *Context) Plugin(slot string, models any) (Plugin, error) {
	if c.plugins == nil {
		return nil, fmt.Errorf("runner: stage %s: no plugin host configured", c.Stage)
	}
	return c.plugins(slot, models)
}
