package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/pit-lab/pit/core/cache"
)

// StagePreview counts one stage's distinct instances in a plan and how many
// of them the cache holds already.
type StagePreview struct {
	Stage     string
	Instances int
	Cached    int
	// Why counts the instances to compute by the reason they are not in
	// the cache: "never run" (no entry of the stage), or what differs from
	// the closest entry: "code changed", "plugin changed", "settings
	// changed", "seed", "inputs changed" (an upstream stage is new).
	Why map[string]int
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
	ex.store = cache.At(opts.cacheRoot())
	if err := ex.build(ctx); err != nil {
		return nil, err
	}
	entries := map[string][]cache.Meta{} // per stage, read once
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
			continue
		}
		if p.Why == nil {
			p.Why = map[string]int{}
		}
		p.Why[ex.whyNotCached(n, entries)]++
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
		why := ""
		for _, r := range slices.Sorted(maps.Keys(p.Why)) {
			why += fmt.Sprintf("; %d %s", p.Why[r], r)
		}
		if why != "" {
			why = " to compute:" + strings.TrimPrefix(why, ";")
		}
		if _, err := fmt.Fprintf(w, "  %-12s %3d (%d cached)%s\n", p.Stage, p.Instances, p.Cached, why); err != nil {
			return err
		}
	}
	return nil
}

// whyNotCached says why node n is not in the cache: "never run" when the
// stage has no entry at all, else what differs between n's key parts and
// those of the closest entry of the stage (the one of the same seed, and
// then with the fewest differing parts), the most telling difference
// first: code, plugin, settings, seed, inputs.
func (ex *executor) whyNotCached(n *node, entries map[string][]cache.Meta) string {
	metas, ok := entries[n.name]
	if !ok {
		metas = ex.store.Entries(n.name)
		entries[n.name] = metas
	}
	best, bestDiff := -1, 0
	var bestParts []string
	for i, m := range metas {
		if len(m.Inputs) == 0 {
			continue
		}
		var diff []string
		for k, v := range n.parts {
			if m.Inputs[k] != v {
				diff = append(diff, k)
			}
		}
		for k := range m.Inputs {
			if _, ok := n.parts[k]; !ok {
				diff = append(diff, k)
			}
		}
		score := len(diff)
		if m.Inputs["seed"] != n.parts["seed"] {
			score += 100 // prefer an entry of the same seed
		}
		if best < 0 || score < bestDiff {
			best, bestDiff, bestParts = i, score, diff
		}
	}
	if best < 0 {
		return "never run"
	}
	has := func(prefix string) bool {
		return slices.ContainsFunc(bestParts, func(p string) bool { return strings.HasPrefix(p, prefix) })
	}
	switch {
	case has("code"):
		return "code changed"
	case has("plugin"):
		return "plugin changed"
	case has("config"), has("kind"):
		return "settings changed"
	case has("seed"):
		return "another seed"
	case has("input:"):
		return "inputs changed"
	}
	return "not in the cache"
}
