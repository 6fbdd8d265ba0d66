package plots

import (
	"context"
	"testing"
)

// docFigures are figures of every kind drawn from the synthetic fixtures, to
// check that each kind draws. The example figures of the README and
// docs/plots.md are drawn from real runs by scripts/figures.sh instead.
var docFigures = []struct {
	fixture string
	spec    Spec
}{
	{"fake-ablation", Spec{Kind: Curve, Stage: "pit_rl", Metrics: []string{"reward", "oracle_gain"}, Smoothing: 0.3, Output: "curve.png"}},
	{"fake-ablation", Spec{Kind: Iterations, Output: "iterations.png"}},
	{"fake-ablation", Spec{Kind: Outcomes, Judge: "oracle", Output: "outcomes.png"}},
	{"fake-ablation", Spec{Kind: Ablation, Judge: "oracle", Output: "ablation.png"}},
	{"fake-ablation", Spec{Kind: Gaps, Filter: map[string]any{"curriculum": "two-round"}, Output: "gaps.png"}},
	{"fake-sweep", Spec{Kind: Sweep, X: "kl_beta", LogX: true, Output: "sweep.png"}},
}

func TestDocFigures(t *testing.T) {
	out, dpi := t.TempDir(), 60
	for _, d := range docFigures {
		spec := d.spec
		spec.DPI = dpi
		if _, err := Draw(context.Background(), loadFixture(t, d.fixture), spec, Options{OutDir: out}); err != nil {
			t.Errorf("%s: %v", spec.Output, err)
		}
	}
}
