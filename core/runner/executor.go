package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/results"
)

// CacheDir is the name of the cache directory inside an experiment's
// results directory when Options.Cache is empty (a cache private to the
// experiment, as the runner's own tests use): <out>/<experiment>/.cache/<stage>/<key>/.
const CacheDir = ".cache"

// ProgressPrefix prefixes the manifest's Extra keys that record a running
// stage's last reported progress ("step/total"), refreshed every
// ProgressEvery, for pit status.
const ProgressPrefix = "progress."

// ProgressEvery is how often running runs' manifests are rewritten with
// their stages' progress.
var ProgressEvery = 10 * time.Second

// StagesDir is the directory inside a run's results directory that holds one
// symbolic link per stage to its artefacts in the cache.
const StagesDir = "stages"

// Options configure Execute.
type Options struct {
	// Dir is the experiment's results directory, <out>/<experiment>. Runs
	// go to Dir/<run ID>/.
	Dir string
	// Cache is the stage cache's directory, which any number of experiments
	// and pit processes may share; Dir/.cache if empty. pit run uses the
	// user's cache (DefaultCacheDir) unless told otherwise.
	Cache string
	// Jobs is the number of stages computed at once (default 1).
	Jobs int
	// Force recomputes every stage even if its key is in the cache (once
	// per invocation: runs sharing a key still share the recomputation).
	Force bool
	// CodeVersion enters every key; CodeVersion() if empty.
	CodeVersion string
	// Plugins launches plugins; needed only if a stage uses plugins.
	Plugins PluginHost
	// Registry holds the stage kinds; Default if nil.
	Registry *Registry
	// Display shows progress; nothing is shown if nil.
	Display Display
}

// Summary is the outcome of Execute.
type Summary struct {
	Dir         string // the experiment's results directory
	Runs        int
	Done        int
	Failed      int
	Interrupted int
	Pending     int // runs not started (the grid was interrupted first)
	Computed    int // stage instances computed by this invocation
	Cached      int // stage instances reused from the cache
	FailedRuns  []string
}

// ErrInterrupted is returned (wrapped) by Execute when its context was
// cancelled before the grid finished.
var ErrInterrupted = errors.New("runner: interrupted")

// node is one stage instance, shared by every run whose stage has its key.
type node struct {
	key   string
	name  string
	kind  *Kind
	spec  *StageSpec // of the first run that has the node
	seed  int64
	deps  []*node
	needs []string // dep names, parallel to deps
	runs  []*runState
	prio  int
	parts map[string]string // key parts, for the entry's Meta
	ids   []results.PluginIdentity

	// Reported by the running stage (Context.Progress).
	step, total atomic.Int64

	// Guarded by executor.mu.
	status   results.Status
	cached   bool // reused from the cache
	meta     cache.Meta
	err      error
	started  time.Time
	finished time.Time
	warnings []string
	// cacheNote says why a cached entry was not used (it failed its
	// checksums), for the manifests of the runs that use the stage.
	cacheNote string
}

type runState struct {
	spec  RunSpec
	dir   string
	nodes []*node // in dependency order

	mu       sync.Mutex // guards the manifest files
	started  time.Time
	finished time.Time
	reported bool
	// What this invocation wrote already, to skip unchanged rewrites.
	written      map[string]bool // "stage/key" published and linked
	metricsDirs  string          // the stage dirs metrics.jsonl was built from
	lastManifest []byte
}

type executor struct {
	opts  Options
	reg   *Registry
	store *cache.Store
	plan  Plan
	runs  []*runState
	nodes []*node // all distinct nodes, by priority
	disp  Display
	code  string
	host  string

	mu      sync.Mutex
	cond    *sync.Cond
	stopped bool
	gen     int     // counts settled nodes, to wake waiting workers
	dirty   []*node // settled nodes whose runs' files are not rewritten yet
	sum     Summary

	// manifestHook, if set, edits each manifest before it is written (see
	// SyncRuns).
	manifestHook func(r *runState, m *results.Manifest)
}

// Execute runs the plan: it computes every stage instance that is not in the
// cache, each once however many runs share it, with opts.Jobs workers, and
// writes each run's results directory. A failed stage fails the runs that
// need it but not the others. Execute returns an error wrapping
// ErrInterrupted when ctx is cancelled, an error if the plan is invalid or
// results cannot be written, and nil otherwise, even when runs failed: see
// Summary.
func Execute(ctx context.Context, plan Plan, opts Options) (Summary, error) {
	ex := &executor{opts: opts, reg: opts.Registry, plan: plan, disp: opts.Display}
	if ex.reg == nil {
		ex.reg = Default
	}
	if ex.disp == nil {
		ex.disp = nopDisplay{}
	}
	if opts.Jobs < 1 {
		ex.opts.Jobs = 1
	}
	ex.cond = sync.NewCond(&ex.mu)
	ex.sum.Dir = opts.Dir
	if opts.Dir == "" {
		return ex.sum, errors.New("runner: no results directory")
	}
	if err := plan.check(ex.reg); err != nil {
		return ex.sum, err
	}
	ex.code = opts.CodeVersion
	if ex.code == "" {
		v, err := CodeVersion()
		if err != nil {
			return ex.sum, err
		}
		ex.code = v
	}
	ex.host, _ = os.Hostname()
	unlock, err := lockDir(opts.Dir)
	if err != nil {
		return ex.sum, err
	}
	defer unlock()
	store, err := cache.Open(opts.cacheRoot())
	if err != nil {
		return ex.sum, err
	}
	if err := store.Clean(); err != nil {
		return ex.sum, err
	}
	ex.store = store
	if err := ex.build(ctx); err != nil {
		return ex.sum, err
	}
	ex.sum.Runs = len(ex.runs)
	for _, r := range ex.runs {
		if err := ex.startRun(r); err != nil {
			return ex.sum, err
		}
	}
	perStage := map[string]int{}
	for _, n := range ex.nodes {
		perStage[n.name]++
	}
	ex.disp.Start(len(ex.runs), perStage, ex.opts.Jobs)

	// Cancel workers' wait when ctx ends.
	stop := context.AfterFunc(ctx, func() {
		ex.mu.Lock()
		ex.stopped = true
		ex.cond.Broadcast()
		ex.mu.Unlock()
	})
	defer stop()

	// Refresh running runs' manifests with their stages' progress.
	tick := time.NewTicker(ProgressEvery)
	tickDone, tickExited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(tickExited)
		for {
			select {
			case <-tickDone:
				return
			case <-tick.C:
				ex.mu.Lock()
				var running []*node
				for _, n := range ex.nodes {
					if n.status == results.StatusRunning {
						running = append(running, n)
					}
				}
				ex.mu.Unlock()
				ex.flush(running)
			}
		}
	}()

	var wg sync.WaitGroup
	for w := 0; w < ex.opts.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex.work(ctx)
		}()
	}
	wg.Wait()
	// Stop the progress refresh before the final writes, which it must not
	// overwrite.
	tick.Stop()
	close(tickDone)
	<-tickExited

	var werr []error
	for _, r := range ex.runs {
		if err := ex.writeRun(r, true); err != nil {
			werr = append(werr, err)
		}
	}
	ex.disp.Close()
	if ctx.Err() != nil {
		werr = append(werr, fmt.Errorf("%w: %d of %d runs finished", ErrInterrupted, ex.sum.Done+ex.sum.Failed, ex.sum.Runs))
	}
	return ex.sum, errors.Join(werr...)
}

// build computes every stage instance's key and deduplicates them.
func (ex *executor) build(ctx context.Context) error {
	byKey := map[string]*node{}
	idCache := map[string]results.PluginIdentity{}
	prio := 0
	for _, spec := range ex.plan.Runs {
		r := &runState{spec: spec, dir: filepath.Join(ex.opts.Dir, filepath.FromSlash(spec.ID))}
		ordered, err := order(spec, ex.reg)
		if err != nil {
			return err
		}
		local := map[string]*node{}
		for _, s := range ordered {
			k, _ := ex.reg.Lookup(s.kind())
			var kb cache.KeyBuilder
			kb.Add("kind", k.Name).Add("kind-version", k.Version).Add("stage", s.Name)
			kb.Add("seed", strconv.FormatInt(SeedFor(spec.Seed, "stage", s.Name), 10))
			kb.Add("config", s.Config)
			needs := append([]string(nil), s.needs(k)...)
			sort.Strings(needs)
			var deps []*node
			for _, n := range needs {
				d := local[n]
				deps = append(deps, d)
				kb.Add("input:"+n, d.key)
			}
			var ids []results.PluginIdentity
			plugins := append([]PluginSpec(nil), s.Plugins...)
			sort.Slice(plugins, func(i, j int) bool { return plugins[i].Slot < plugins[j].Slot })
			for _, p := range plugins {
				if ex.opts.Plugins == nil {
					return fmt.Errorf("run %s: stage %s uses plugin %s but no plugin host is configured", spec.ID, s.Name, p.Name)
				}
				ck := p.Slot + "\x00" + p.Name + "\x00" + p.Path + "\x00" + p.SHA256
				id, ok := idCache[ck]
				if !ok {
					id, err = ex.opts.Plugins.Identify(ctx, p)
					if err != nil {
						return fmt.Errorf("run %s: stage %s: plugin %s: %w", spec.ID, s.Name, p.Name, err)
					}
					idCache[ck] = id
				}
				id.Kind = p.Slot
				ids = append(ids, id)
				// A built-in (no path) is pit's own code, which the code
				// version already names; its executable's hash (in the
				// manifest) would differ between go run and go build of
				// the same tree. An external plugin is its bytes.
				sum := "sha256:" + id.SHA256
				if p.Path == "" {
					sum = "builtin"
				}
				kb.Add("plugin:"+p.Slot, id.Name+"@"+id.Version+" "+sum)
				cfg, err := json.Marshal(p.Config) // map keys sorted: deterministic
				if err != nil {
					return fmt.Errorf("run %s: stage %s: plugin %s config: %w", spec.ID, s.Name, p.Name, err)
				}
				kb.Add("plugin-config:"+p.Slot, string(cfg))
			}
			kb.Add("code", ex.code)
			key := kb.Key()
			n, ok := byKey[s.Name+"/"+key]
			if !ok {
				n = &node{key: key, name: s.Name, kind: k, spec: s, seed: spec.Seed, deps: deps, needs: needs,
					prio: prio, parts: kb.Parts(), ids: ids, status: results.StatusPending}
				prio++
				byKey[s.Name+"/"+key] = n
				ex.nodes = append(ex.nodes, n)
			}
			n.runs = append(n.runs, r)
			local[s.Name] = n
			r.nodes = append(r.nodes, n)
		}
		ex.runs = append(ex.runs, r)
	}
	return nil
}

// work is one worker: it takes the most urgent ready node, resolves it from
// the cache or computes it, until nothing is left or the grid is stopped.
func (ex *executor) work(ctx context.Context) {
	for {
		ex.mu.Lock()
		if ex.stopped {
			ex.mu.Unlock()
			return
		}
		n, left := ex.pick()
		dirty := ex.dirty
		ex.dirty = nil
		gen := ex.gen
		if n != nil {
			n.status = results.StatusRunning
			n.started = time.Now()
		}
		ex.mu.Unlock()
		ex.flush(dirty)

		switch {
		case n != nil:
			ex.runNode(ctx, n)
		case !left:
			return
		default:
			// Wait for another worker to settle a node.
			ex.mu.Lock()
			for !ex.stopped && ex.gen == gen {
				ex.cond.Wait()
			}
			ex.mu.Unlock()
		}
	}
}

// flush rewrites the results of the runs of the given nodes.
func (ex *executor) flush(nodes []*node) {
	seen := map[*runState]bool{}
	for _, n := range nodes {
		for _, r := range n.runs {
			if seen[r] {
				continue
			}
			seen[r] = true
			if err := ex.writeRun(r, false); err != nil {
				ex.disp.Message(StageInfo{Run: r.spec.ID}, "cannot write results: "+err.Error())
			}
		}
	}
}

// pick returns the ready node with the lowest priority number, after
// resolving every node that can be settled without a worker: cache hits and
// nodes whose inputs failed. left reports whether unresolved nodes remain.
// Called with ex.mu held.
func (ex *executor) pick() (n *node, left bool) {
	for changed := true; changed; {
		changed = false
		for _, c := range ex.nodes {
			if c.status != results.StatusPending {
				continue
			}
			ready := true
			for _, d := range c.deps {
				switch d.status {
				case results.StatusFailed:
					c.status = results.StatusFailed
					c.err = fmt.Errorf("not run: stage %s failed", d.name)
					c.finished = time.Now()
					ex.disp.StageFinished(c.info(), c.status, c.err, 0)
					ex.nodeChanged(c)
					changed = true
				case results.StatusDone:
				default:
					ready = false
				}
				if c.status != results.StatusPending {
					break
				}
			}
			if c.status != results.StatusPending || !ready {
				continue
			}
			if !ex.opts.Force {
				m, ok, err := ex.store.Get(c.name, c.key)
				if err != nil {
					// A corrupt entry was moved aside (the message says
					// where); the stage is computed again.
					ex.disp.Message(c.info(), err.Error())
					c.cacheNote = err.Error()
				}
				if ok {
					c.status = results.StatusDone
					c.cached = true
					c.meta = m
					c.warnings = m.Warnings
					c.started, c.finished = m.Started, m.Finished
					ex.sum.Cached++
					ex.disp.StageCached(c.info())
					ex.nodeChanged(c)
					changed = true
					continue
				}
			}
			if n == nil {
				n = c
			}
		}
	}
	for _, c := range ex.nodes {
		if c.status == results.StatusPending || c.status == results.StatusRunning {
			left = true
			break
		}
	}
	return n, left
}

func (n *node) info() StageInfo {
	return StageInfo{Run: n.runs[0].spec.ID, Runs: len(n.runs), Stage: n.name, Key: n.key}
}

// runNode computes n and records the outcome.
func (ex *executor) runNode(ctx context.Context, n *node) {
	ex.disp.StageStarted(n.info())
	ex.mu.Lock()
	for _, r := range n.runs {
		if r.started.IsZero() {
			r.started = n.started
		}
	}
	ex.mu.Unlock()
	ex.flush([]*node{n})

	// Another pit process sharing the cache may be computing the same
	// instance: one computes it, the other waits and reuses it.
	var meta cache.Meta
	var warnings []string
	reused := false
	unlock, err := lockFile(ctx, ex.lockPath(n.name, n.key))
	if err == nil {
		if m, ok, _ := ex.store.Get(n.name, n.key); ok && !ex.opts.Force {
			meta, warnings, reused = m, m.Warnings, true
		} else {
			meta, warnings, err = ex.compute(ctx, n)
		}
		unlock()
	}

	ex.mu.Lock()
	n.finished = time.Now()
	n.warnings = warnings
	switch {
	case err == nil && reused:
		n.status = results.StatusDone
		n.meta, n.cached = meta, true
		n.started, n.finished = meta.Started, meta.Finished
		ex.sum.Cached++
	case err == nil:
		n.status = results.StatusDone
		n.meta = meta
		ex.sum.Computed++
	case ctx.Err() != nil:
		n.status = results.StatusInterrupted
		n.err = ctx.Err()
	default:
		n.status = results.StatusFailed
		n.err = err
	}
	ex.gen++
	ex.cond.Broadcast()
	ex.mu.Unlock()
	ex.disp.StageFinished(n.info(), n.status, err, n.finished.Sub(n.started))
	ex.flush([]*node{n})
}

// compute runs the stage into a pending cache entry and commits it.
func (ex *executor) compute(ctx context.Context, n *node) (meta cache.Meta, warnings []string, err error) {
	if ex.opts.Force {
		if err := ex.store.RemoveScratch(n.name, n.key); err != nil {
			return meta, nil, err
		}
	}
	pending, err := ex.store.Begin(n.name, n.key)
	if err != nil {
		return meta, nil, err
	}
	defer pending.Abort()
	logFile, err := os.Create(filepath.Join(pending.Dir(), "stage.log"))
	if err != nil {
		return meta, nil, fmt.Errorf("runner: %w", err)
	}
	defer logFile.Close()
	mw, err := newMetricsWriter(pending.Dir(), n.name, n.seed)
	if err != nil {
		return meta, nil, err
	}
	defer mw.close()

	info := n.info()
	var wmu sync.Mutex
	logger := slog.New(newStageHandler(logFile, func(msg string) { ex.disp.Message(info, msg) })).With("stage", n.name)
	c := &Context{
		Context:  ctx,
		Stage:    n.name,
		Kind:     n.kind,
		Key:      n.key,
		Settings: n.spec.Settings,
		Task:     n.spec.Task,
		Model:    n.spec.Model,
		Sections: n.spec.Sections,
		InitFrom: n.spec.InitFrom,
		InitPath: n.spec.InitPath,
		Inputs:   map[string]string{},
		Out:      pending.Dir(),
		scratch:  ex.store.ScratchDir(n.name, n.key),
		Log:      logger,
		seed:     n.seed,
		metrics:  mw,
		started:  time.Now(),
		progress: func(step, total int) {
			n.step.Store(int64(step))
			n.total.Store(int64(total))
			ex.disp.StageProgress(info, step, total)
		},
		warn: func(m string) {
			wmu.Lock()
			warnings = append(warnings, m)
			wmu.Unlock()
		},
	}
	for i, d := range n.deps {
		c.Inputs[n.needs[i]] = ex.store.Dir(d.name, d.key)
	}
	var launched []Plugin
	var lmu sync.Mutex
	defer func() {
		lmu.Lock()
		defer lmu.Unlock()
		for _, p := range launched {
			p.Close()
		}
	}()
	c.plugins = func(slot string, models any) (Plugin, error) {
		for _, p := range n.spec.Plugins {
			if p.Slot != slot {
				continue
			}
			if ex.opts.Plugins == nil {
				return nil, fmt.Errorf("runner: stage %s: no plugin host configured", n.name)
			}
			pl, err := ex.opts.Plugins.Launch(ctx, p, PluginSeed(n.seed, n.name, slot), models)
			if err != nil {
				return nil, fmt.Errorf("runner: stage %s: launch %s plugin %s: %w", n.name, slot, p.Name, err)
			}
			lmu.Lock()
			launched = append(launched, pl)
			lmu.Unlock()
			return pl, nil
		}
		return nil, fmt.Errorf("runner: stage %s has no plugin for slot %q", n.name, slot)
	}

	started := c.started
	err = runProtected(c)
	wmu.Lock()
	warnings = append([]string(nil), warnings...)
	wmu.Unlock()
	if cerr := mw.close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil && ctx.Err() != nil {
		// The stage ignored the cancellation and returned nil: its output
		// may be cut short, so do not commit it.
		err = ctx.Err()
	}
	if err != nil {
		fmt.Fprintf(logFile, "error: %v\n", err)
		return meta, warnings, err
	}
	finished := time.Now()
	meta = cache.Meta{
		Inputs:   n.parts,
		Run:      ex.plan.Experiment + "/" + n.runs[0].spec.ID,
		PID:      os.Getpid(),
		Started:  started,
		Finished: finished,
		Seconds:  finished.Sub(started).Seconds(),
		Warnings: warnings,
	}
	if err := pending.Commit(meta, ex.opts.Force); err != nil {
		return meta, warnings, err
	}
	ex.store.RemoveScratch(n.name, n.key) // best effort: a leftover is harmless
	return meta, warnings, nil
}

// runProtected calls the stage's Run, turning a panic into an error.
func runProtected(c *Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.Log.Error("panic", "value", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("stage %s panicked: %v", c.Stage, p)
		}
	}()
	return c.Kind.Run(c)
}

// nodeChanged records that n settled: the results of its runs must be
// rewritten (by flush, outside the lock) and waiting workers may proceed.
// Called with ex.mu held.
func (ex *executor) nodeChanged(n *node) {
	ex.dirty = append(ex.dirty, n)
	ex.gen++
	ex.cond.Broadcast()
}

// startRun writes the run's config.toml and a pending manifest, so the grid's
// state is visible before any stage runs.
func (ex *executor) startRun(r *runState) error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	removeTemps(r.dir)
	removeTemps(filepath.Join(r.dir, StagesDir))
	if err := writeIfChanged(filepath.Join(r.dir, results.ConfigFile), r.spec.Config); err != nil {
		return err
	}
	return ex.writeRun(r, false)
}

// writeRun rewrites r's manifest, metrics, published files and stage links
// from the current node states. final marks the end of the invocation:
// unfinished runs become interrupted.
func (ex *executor) writeRun(r *runState, final bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()

	ex.mu.Lock()
	m := results.Manifest{
		Experiment:  ex.plan.Experiment,
		Run:         r.spec.ID,
		Arm:         r.spec.Arm,
		Seed:        r.spec.Seed,
		Baseline:    r.spec.Baseline,
		Factors:     r.spec.Factors,
		CodeVersion: ex.code,
		GoVersion:   runtime.Version(),
		Host:        ex.host,
		Started:     r.started,
		Extra:       map[string]string{"pid": strconv.Itoa(os.Getpid())},
	}
	var doneDirs []string
	var publish [][2]string
	var links [][2]string
	var stale []string // files and links of an earlier invocation that this one did not produce
	seenPlugin := map[string]bool{}
	all, anyFailed, anyInterrupted, anyStarted := true, false, false, false
	var firstErr string
	for _, n := range r.nodes {
		rec := results.StageRecord{Name: n.name, Key: n.key, Status: n.status}
		if n.status != results.StatusPending {
			anyStarted = true
		}
		switch n.status {
		case results.StatusDone:
			rec.Started, rec.Finished = n.meta.Started, n.meta.Finished
			rec.Seconds = n.meta.Seconds
			// Cached means "not computed by this run" but by another run of
			// the grid, in this invocation or an earlier one. An entry this
			// run computed in an earlier, interrupted invocation is its own.
			rec.Cached = n.meta.Run != ex.plan.Experiment+"/"+r.spec.ID
			dir := ex.store.Dir(n.name, n.key)
			doneDirs = append(doneDirs, dir)
			for _, f := range n.kind.Publish {
				publish = append(publish, [2]string{filepath.Join(dir, f), filepath.Join(r.dir, PublishedName(n.name, n.kind.Name, f))})
			}
			links = append(links, [2]string{dir, filepath.Join(r.dir, StagesDir, n.name)})
		case results.StatusRunning:
			rec.Started = n.started
			all = false
			if step := n.step.Load(); step > 0 {
				m.Extra[ProgressPrefix+n.name] = fmt.Sprintf("%d/%d", step, n.total.Load())
			}
		default:
			rec.Started, rec.Finished = n.started, n.finished
			if !n.started.IsZero() && !n.finished.IsZero() {
				rec.Seconds = n.finished.Sub(n.started).Seconds()
			}
			if n.err != nil {
				rec.Error = n.err.Error()
				if step, v, ok := StepFailure(n.err); ok {
					rec.FailedStep, rec.FailedValue = step, v
				}
			}
			all = false
			if n.status == results.StatusFailed {
				anyFailed = true
				if firstErr == "" && !strings.HasPrefix(rec.Error, "not run:") {
					firstErr = fmt.Sprintf("stage %s: %s", n.name, rec.Error)
				}
			}
			if n.status == results.StatusInterrupted {
				anyInterrupted = true
			}
			if n.status == results.StatusFailed || n.status == results.StatusInterrupted || final {
				// What this stage published in an earlier invocation
				// must not look like this run's output.
				for _, f := range n.kind.Publish {
					stale = append(stale, filepath.Join(r.dir, PublishedName(n.name, n.kind.Name, f)))
				}
				stale = append(stale, filepath.Join(r.dir, StagesDir, n.name))
			}
		}
		if n.cacheNote != "" {
			m.Warnings = append(m.Warnings, n.name+": "+n.cacheNote)
		}
		for _, w := range n.warnings {
			m.Warnings = append(m.Warnings, n.name+": "+w)
		}
		for _, id := range n.ids {
			k := id.Kind + "/" + id.Name + "/" + id.SHA256
			if !seenPlugin[k] {
				seenPlugin[k] = true
				m.Plugins = append(m.Plugins, id)
			}
		}
		m.Stages = append(m.Stages, rec)
	}
	stopped := ex.stopped
	ex.mu.Unlock()

	if m.Started.IsZero() && anyStarted {
		m.Started = time.Now()
	}
	switch {
	case all:
		m.Status = results.StatusDone
	case anyFailed && !anyPendingOrRunning(m.Stages):
		m.Status = results.StatusFailed
		m.Error = firstErr
	case anyInterrupted || (final && stopped):
		if anyStarted || anyFailed {
			m.Status = results.StatusInterrupted
			m.Error = "interrupted"
		} else {
			m.Status = results.StatusPending
		}
	case anyStarted:
		m.Status = results.StatusRunning
	default:
		m.Status = results.StatusPending
	}
	if m.Status == results.StatusDone || m.Status == results.StatusFailed {
		if r.finished.IsZero() {
			r.finished = time.Now()
		}
		m.Finished = r.finished
	}

	var errs []error
	if r.written == nil {
		r.written = map[string]bool{}
	}
	if err := results.RemoveStale(stale, publish); err != nil {
		errs = append(errs, err)
	}
	for _, l := range links {
		if r.written[l[0]] {
			continue
		}
		var lerrs []error
		if err := linkAtomic(l[0], l[1]); err != nil {
			lerrs = append(lerrs, err)
		}
		for _, p := range publish {
			if filepath.Dir(p[0]) != l[0] {
				continue
			}
			if err := copyAtomic(p[0], p[1]); err != nil {
				lerrs = append(lerrs, err)
			}
		}
		if len(lerrs) == 0 {
			r.written[l[0]] = true
		}
		errs = append(errs, lerrs...)
	}
	if joined := strings.Join(doneDirs, "\x00"); joined != r.metricsDirs || r.lastManifest == nil {
		if err := runMetrics(filepath.Join(r.dir, results.MetricsFile), doneDirs); err != nil {
			errs = append(errs, err)
		} else {
			r.metricsDirs = joined
		}
	}
	if ex.manifestHook != nil {
		ex.manifestHook(r, &m)
	}
	if b, err := json.MarshalIndent(m, "", "  "); err != nil {
		errs = append(errs, fmt.Errorf("runner: encode manifest: %w", err))
	} else if b = append(b, '\n'); !bytes.Equal(b, r.lastManifest) {
		if err := results.WriteFileAtomic(filepath.Join(r.dir, results.ManifestFile), b); err != nil {
			errs = append(errs, err)
		} else {
			r.lastManifest = b
		}
	}
	if (m.Status == results.StatusDone || m.Status == results.StatusFailed) && !r.reported {
		r.reported = true
		ex.mu.Lock()
		if m.Status == results.StatusDone {
			ex.sum.Done++
		} else {
			ex.sum.Failed++
			ex.sum.FailedRuns = append(ex.sum.FailedRuns, r.spec.ID)
		}
		ex.mu.Unlock()
		ex.disp.RunFinished(r.spec.ID, m.Status, m.Error)
	}
	if final && !r.reported {
		ex.mu.Lock()
		if m.Status == results.StatusInterrupted {
			ex.sum.Interrupted++
		} else {
			ex.sum.Pending++
		}
		ex.mu.Unlock()
	}
	return errors.Join(errs...)
}

func anyPendingOrRunning(recs []results.StageRecord) bool {
	for _, r := range recs {
		if r.Status == results.StatusPending || r.Status == results.StatusRunning {
			return true
		}
	}
	return false
}

// removeTemps removes the temporary files that atomic writes into dir left
// when a previous pit process was killed mid-write (".NAME.tmp-*" from
// results.WriteFileAtomic, "NAME.tmp-PID" from linkAtomic).
func removeTemps(dir string) {
	for _, pat := range []string{".*.tmp-*", "*.tmp-*"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, m := range matches {
			os.Remove(m)
		}
	}
}

// linkAtomic points link at target (relative), replacing an existing link.
func linkAtomic(target, link string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	rel, err := filepath.Rel(filepath.Dir(link), target)
	if err != nil {
		rel = target
	}
	if cur, err := os.Readlink(link); err == nil && cur == rel {
		return nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", link, os.Getpid())
	os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("runner: %w", err)
	}
	return nil
}

// stageHandler writes a stage's log records as text to its log file and
// forwards warnings and errors to the display.
func newStageHandler(w io.Writer, forward func(string)) slog.Handler {
	return &forwardHandler{Handler: slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}), forward: forward}
}

type forwardHandler struct {
	slog.Handler
	forward func(string)
}

func (h *forwardHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn && h.forward != nil {
		var b strings.Builder
		b.WriteString(strings.ToLower(r.Level.String()) + ": " + r.Message)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "stack" {
				b.WriteString(" " + a.String())
			}
			return true
		})
		h.forward(b.String())
	}
	return h.Handler.Handle(ctx, r)
}

func (h *forwardHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &forwardHandler{Handler: h.Handler.WithAttrs(as), forward: h.forward}
}

func (h *forwardHandler) WithGroup(name string) slog.Handler {
	return &forwardHandler{Handler: h.Handler.WithGroup(name), forward: h.forward}
}

// cacheRoot is the stage cache's directory (Options.Cache).
func (o Options) cacheRoot() string {
	if o.Cache != "" {
		return o.Cache
	}
	return filepath.Join(o.Dir, CacheDir)
}

// lockPath is the lock file that one computation of the instance (stage,
// key) holds, in the cache, so that pit processes sharing it (several
// experiments, a local run beside Slurm jobs) never compute it twice at once.
func (ex *executor) lockPath(stage, key string) string {
	return filepath.Join(ex.opts.cacheRoot(), cache.LocksDir, stage+"-"+key)
}

// PublishedName is the name in the run directory of a file that a stage
// publishes: the file's own name for a stage named after its kind, else
// prefixed by the stage's name ("rm_rubric-rm.json"), so that two stages
// of one kind do not overwrite each other's.
func PublishedName(stage, kind, file string) string {
	if stage == kind {
		return file
	}
	return stage + "-" + file
}
