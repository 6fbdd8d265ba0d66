package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pit-lab/pit/core/cache"
	"github.com/pit-lab/pit/core/results"
)

// This file is the hook for executors that run stage instances outside the
// pit process that plans them (the Slurm executor, core/runner/slurm): they
// list the plan's stage DAG with Instances, compute one instance per job
// with ComputeInstance, and rewrite the runs' results from the cache and
// their own job states with SyncRuns. Several processes, on several hosts,
// may do so at once over a shared results directory.

// ExternalDir is the directory inside an experiment's results directory
// where external executors keep their records and locks.
const ExternalDir = ".executor"

// Instance is one distinct stage instance of a plan: a node of its DAG,
// shared by every run whose stage has its key.
type Instance struct {
	Stage string
	Key   string
	// Inputs are the indexes (in the slice Instances returns) of the
	// instances it reads; they come earlier in the slice.
	Inputs []int
	// Runs are the IDs of the runs that use it; the first computes it
	// (its directory holds the instance's logs).
	Runs []string
	// Cached reports whether the cache holds it already.
	Cached bool
}

// ExternalState is what an external executor knows about an instance that
// the cache does not hold.
type ExternalState struct {
	Status            results.Status // pending, running or failed
	Error             string         // why it failed
	Started, Finished time.Time
	// Extra is added to the manifests of the runs that use the instance
	// (for example the job that computes it).
	Extra map[string]string
}

// newExternal builds an executor for the plan without taking the grid's
// lock and without writing anything.
func newExternal(ctx context.Context, plan Plan, opts Options) (*executor, error) {
	ex := &executor{opts: opts, reg: opts.Registry, plan: plan, disp: opts.Display}
	if ex.reg == nil {
		ex.reg = Default
	}
	if ex.disp == nil {
		ex.disp = nopDisplay{}
	}
	ex.sum.Dir = opts.Dir
	if opts.Dir == "" {
		return nil, errors.New("runner: no results directory")
	}
	if err := plan.check(ex.reg); err != nil {
		return nil, err
	}
	ex.code = opts.CodeVersion
	if ex.code == "" {
		v, err := CodeVersion()
		if err != nil {
			return nil, err
		}
		ex.code = v
	}
	ex.host, _ = os.Hostname()
	ex.store = cache.At(opts.cacheRoot())
	if err := ex.build(ctx); err != nil {
		return nil, err
	}
	return ex, nil
}

// Instances computes the plan's stage keys, as Execute would, and returns
// its distinct stage instances in dependency order (inputs first). It
// writes nothing. With opts.Force nothing counts as cached.
func Instances(ctx context.Context, plan Plan, opts Options) ([]Instance, error) {
	ex, err := newExternal(ctx, plan, opts)
	if err != nil {
		return nil, err
	}
	return ex.instances(), nil
}

func (ex *executor) instances() []Instance {
	// ex.nodes is in priority order, which follows each run's dependency
	// order, so every node's inputs come before it.
	idx := map[*node]int{}
	out := make([]Instance, 0, len(ex.nodes))
	for i, n := range ex.nodes {
		idx[n] = i
		in := Instance{Stage: n.name, Key: n.key}
		for _, d := range n.deps {
			in.Inputs = append(in.Inputs, idx[d])
		}
		for _, r := range n.runs {
			in.Runs = append(in.Runs, r.spec.ID)
		}
		if !ex.opts.Force {
			_, in.Cached = ex.store.Lookup(n.name, n.key)
		}
		out = append(out, in)
	}
	return out
}

func (ex *executor) find(stage, key string) *node {
	for _, n := range ex.nodes {
		if n.name == stage && n.key == key {
			return n
		}
	}
	return nil
}

// ErrUnknownInstance is returned (wrapped) by ComputeInstance when the plan
// has no instance with the stage and key asked for: the experiment file or
// the pit executable changed since the instance was planned.
var ErrUnknownInstance = errors.New("runner: no such stage instance in the plan")

// ComputeInstance computes the plan's instance (stage, key) into the cache,
// unless the cache holds it already. Its inputs must be in the cache. It
// holds a lock on the key (in the shared results directory) while it
// computes, so two processes never compute one key at once; a second one
// waits and then finds the entry committed. Nothing else of the run
// directories is written: see SyncRuns. opts.Force recomputes the entry.
func ComputeInstance(ctx context.Context, plan Plan, opts Options, stage, key string) error {
	ex, err := newExternal(ctx, plan, opts)
	if err != nil {
		return err
	}
	n := ex.find(stage, key)
	if n == nil {
		return fmt.Errorf("%w: %s %s (was the experiment file or pit changed since it was submitted?)", ErrUnknownInstance, stage, key)
	}
	for _, d := range n.deps {
		if _, ok := ex.store.Lookup(d.name, d.key); !ok {
			return fmt.Errorf("runner: stage %s: input %s (%s) is not in the cache", stage, d.name, d.key)
		}
		if err := ex.store.Verify(d.name, d.key); err != nil {
			return fmt.Errorf("runner: stage %s: input %s: %w (the next pit run moves it aside and computes it again)", stage, d.name, err)
		}
	}
	store, err := cache.Open(ex.store.Root())
	if err != nil {
		return err
	}
	ex.store = store
	unlock, err := lockFile(ctx, ex.lockPath(stage, key))
	if err != nil {
		return err
	}
	defer unlock()
	if !opts.Force {
		_, ok, err := ex.store.Get(stage, key)
		if ok {
			return nil
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err) // moved aside; computed again below
		}
	}
	_, _, err = ex.compute(ctx, n)
	return err
}

// lockFile takes an exclusive flock on path, waiting for it until ctx ends.
func lockFile(ctx context.Context, path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("runner: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("runner: waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SyncRuns rewrites the results of the plan's runs (manifest, metrics,
// published files, stage links) from the cache and, for instances the cache
// does not hold, from state (nil or a missing entry: pending). With only
// set, just the runs that use the instance (only[0], only[1]) = (stage,
// key) are rewritten. Each run is rewritten under a lock, from what is on
// disk then, so concurrent callers leave the latest state. An instance
// whose input failed is reported failed ("not run"). The manifests carry no
// process id: the work belongs to the executor, not to the caller.
func SyncRuns(ctx context.Context, plan Plan, opts Options, state func(stage, key string) (ExternalState, bool), only ...string) error {
	if len(only) != 0 && len(only) != 2 {
		return errors.New("runner: SyncRuns: only is (stage, key)")
	}
	ex, err := newExternal(ctx, plan, opts)
	if err != nil {
		return err
	}
	runs := ex.runs
	if len(only) == 2 {
		n := ex.find(only[0], only[1])
		if n == nil {
			return fmt.Errorf("%w: %s %s", ErrUnknownInstance, only[0], only[1])
		}
		runs = n.runs
	}
	extra := map[*runState]map[string]string{}
	ex.manifestHook = func(r *runState, m *results.Manifest) {
		delete(m.Extra, "pid")
		for k, v := range extra[r] {
			m.Extra[k] = v
		}
	}
	var errs []error
	for _, r := range runs {
		if err := ex.syncRun(ctx, r, state, extra); err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", r.spec.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (ex *executor) syncRun(ctx context.Context, r *runState, state func(stage, key string) (ExternalState, bool), extra map[*runState]map[string]string) error {
	sum := sha256.Sum256([]byte(r.spec.ID))
	unlock, err := lockFile(ctx, filepath.Join(ex.opts.Dir, ExternalDir, "locks", "run-"+hex.EncodeToString(sum[:8])+".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	ex.mu.Lock()
	x := map[string]string{}
	r.started = time.Time{}
	for _, n := range r.nodes {
		n.err, n.cached, n.meta = nil, false, cache.Meta{}
		n.started, n.finished = time.Time{}, time.Time{}
		n.status = results.StatusPending
		var st ExternalState
		var known bool
		if state != nil {
			st, known = state(n.name, n.key)
			for k, v := range st.Extra {
				x[k] = v
			}
		}
		if m, ok := ex.store.Lookup(n.name, n.key); ok && !ex.opts.Force {
			n.status = results.StatusDone
			n.meta = m
			n.warnings = m.Warnings
			n.started, n.finished = m.Started, m.Finished
		} else {
			if known {
				n.status = st.Status
				n.started, n.finished = st.Started, st.Finished
				if st.Error != "" {
					n.err = errors.New(st.Error)
				}
			}
			if n.status == results.StatusPending {
				for _, d := range n.deps {
					if d.status == results.StatusFailed {
						n.status = results.StatusFailed
						n.err = fmt.Errorf("not run: stage %s failed", d.name)
						break
					}
				}
			}
		}
		if !n.started.IsZero() && (r.started.IsZero() || n.started.Before(r.started)) {
			r.started = n.started
		}
	}
	extra[r] = x
	ex.mu.Unlock()
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	if err := writeIfChanged(filepath.Join(r.dir, results.ConfigFile), r.spec.Config); err != nil {
		return err
	}
	r.reported = true // no summary or display for external runs
	r.finished = time.Time{}
	for _, n := range r.nodes {
		if n.finished.After(r.finished) {
			r.finished = n.finished
		}
	}
	return ex.writeRun(r, false)
}

// StatusDetail is the manifest Extra key an executor may set (in memory,
// for WriteStatus) to explain a pending or running run, e.g. its jobs'
// scheduler states.
const StatusDetail = "status.detail"
