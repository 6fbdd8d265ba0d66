package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// benchPlan is a grid of arms × 2 seeds over three no-op stages; a and b are
// shared per seed, c differs per arm.
func benchPlan(arms int) (Plan, *Registry) {
	reg := NewRegistry()
	noop := func(c *Context) error { return c.Metric(1, "x", 1) }
	reg.Register(Kind{Name: "a", Run: noop})
	reg.Register(Kind{Name: "b", Needs: []string{"a"}, Run: noop})
	reg.Register(Kind{Name: "c", Needs: []string{"b"}, Run: noop})
	p := Plan{Experiment: "bench"}
	for arm := 0; arm < arms; arm++ {
		for seed := int64(1); seed <= 2; seed++ {
			p.Runs = append(p.Runs, RunSpec{ID: fmt.Sprintf("arm=%d/seed=%d", arm, seed), Seed: seed, Stages: []StageSpec{
				{Name: "a"}, {Name: "b"}, {Name: "c", Config: fmt.Sprint(arm)},
			}})
		}
	}
	return p, reg
}

// BenchmarkExecuteFresh measures the runner's own cost per run (keys, cache
// commits, manifests, metrics files) with stages that do nothing.
func BenchmarkExecuteFresh(b *testing.B) {
	plan, reg := benchPlan(16)
	root := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(root, fmt.Sprint(i))
		if _, err := Execute(context.Background(), plan, Options{Dir: dir, Jobs: 2, Registry: reg, CodeVersion: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(plan.Runs))/1e6, "ms/run")
}

// BenchmarkExecuteCached measures a rerun where every stage is reused.
func BenchmarkExecuteCached(b *testing.B) {
	plan, reg := benchPlan(16)
	dir := b.TempDir()
	opts := Options{Dir: dir, Jobs: 2, Registry: reg, CodeVersion: "bench"}
	if _, err := Execute(context.Background(), plan, opts); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if sum, err := Execute(context.Background(), plan, opts); err != nil || sum.Computed != 0 {
			b.Fatal(sum, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(plan.Runs))/1e6, "ms/run")
}
