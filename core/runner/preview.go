package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pit-lab/pit/core/cache"
)

// StagePreview counts one stage's distinct instances in a plan and how many
// of them the cache holds already.
type StagePreview struct {
	Stage     string
	Instances int
	Cached    int
}

// Preview computes the plan's stage keys, as Execute would, and looks them
// up in the cache without running or writing anything. With opts.Force
// nothing counts as cached.
func Preview(ctx context.Context, plan Plan, opts Options) ([]StagePreview, error) {
	ex := &executor{opts: opts, reg: opts.Registry, plan: plan}
	if ex.reg == nil {
		ex.reg = Default
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
	if opts.Dir == "" {
		return nil, errors.New("runner: no results directory")
	}
	ex.store = cache.At(filepath.Join(opts.Dir, CacheDir))
	if err := ex.build(ctx); err != nil {
		return nil, err
	}
	by := map[string]*StagePreview{}
	var names []string
	for _, n := range ex.nodes {
		p := by[n.name]
		if p == nil {
			p = &StagePreview{Stage: n.name}
			by[n.name] = p
			names = append(names, n.name)
		}
		p.Instances++
		if _, ok := ex.store.Lookup(n.name, n.key); ok && !opts.Force {
			p.Cached++
		}
	}
	out := make([]StagePreview, 0, len(names))
	for _, name := range names {
		out = append(out, *by[name])
	}
	return out, nil
}

// WritePreview prints a Preview: per stage, its instances and how many are
// reused.
func WritePreview(w io.Writer, ps []StagePreview) error {
	total, cached := 0, 0
	for _, p := range ps {
		total += p.Instances
		cached += p.Cached
	}
	if _, err := fmt.Fprintf(w, "\n%d distinct stage instances: %d in the cache, %d to compute\n", total, cached, total-cached); err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := fmt.Fprintf(w, "  %-12s %3d (%d cached)\n", p.Stage, p.Instances, p.Cached); err != nil {
			return err
		}
	}
	return nil
}
