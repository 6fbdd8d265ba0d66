package plots

import (
	"context"
	"path/filepath"
	"testing"
)

// docFigures are the example figures of docs/plots.md and plots/README.md,
// drawn from the synthetic fixtures. Regenerate them with
//
//	go test ./plots -run DocFigures -update
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
	out := t.TempDir()
	dpi := 60
	if *update {
		out, dpi = filepath.Join("..", "docs", "plots"), 150
	}
	for _, d := range docFigures {
		spec := d.spec
		spec.DPI = dpi
		if _, err := Draw(context.Background(), loadFixture(t, d.fixture), spec, Options{OutDir: out}); err != nil {
			t.Errorf("%s: %v", spec.Output, err)
		}
	}
}
