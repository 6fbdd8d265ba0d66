package plots

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
)

// pitRun is one hand-made run in the shape pit writes for the default
// pipeline: pit_rl curves crossing zero (and a constant kl_coef, reward
// components), eval rows at iterations 0–2 and gap scores of a pit_rm
// stage with the given cache key.
func pitRun(arm string, baseline bool, seed int64, rmKey string) *Run {
	r := &Run{
		Dir: arm + "/seed=" + fmt.Sprint(seed),
		Manifest: results.Manifest{Experiment: "fixes", Arm: arm, Seed: seed, Baseline: baseline, Status: results.StatusDone,
			Stages: []results.StageRecord{{Name: "pit_rm", Key: rmKey, Status: results.StatusDone}}},
	}
	if arm != "baseline" {
		r.Manifest.Factors = map[string]any{"curriculum": strings.TrimPrefix(arm, "curriculum=")}
	}
	s := float64(seed)
	for step := range 12 {
		x := float64(step)
		for _, m := range []struct {
			name string
			v    float64
		}{
			{"reward", -0.3 + 0.06*x + 0.01*s}, {"oracle_gain", -0.02 + 0.004*x}, {"kl", 0.01 * x * x}, {"kl_coef", 0.2},
			{"entropy", 2 - 0.01*x}, {"reward/length", 0.5 + 0.01*x}, {"reward/length_std", 0.1},
		} {
			r.Metrics = append(r.Metrics, results.Metric{Stage: "pit_rl", Step: step, Name: m.name, Value: m.v})
		}
	}
	for it := range 3 {
		w := 0.3 + 0.1*float64(it) + 0.02*s
		r.Eval = append(r.Eval, results.EvalRow{Method: "pit", Iteration: it, Judge: "oracle", Temperature: 0.4, N: 20,
			Win: w, Tie: 0.2, Lose: 0.8 - w, Delta: 100 * (2*w - 0.8), MeanOracle: 0.5})
	}
	r.Eval = append(r.Eval, results.EvalRow{Method: "null", Iteration: 1, Judge: "oracle", Temperature: 0.4, N: 20,
		Win: 0.3, Tie: 0.4, Lose: 0.3, MeanOracle: 0.5})
	for p := range 20 {
		x := float64(p%7) / 7
		r.Gaps = append(r.Gaps, results.GapScore{Pair: p, WL: 0.6 + x, WW: x, LL: x - 0.1, LW: -0.5 + x})
	}
	return r
}

// TestFigureFixesGolden pins the text of the default figures of a one-arm
// experiment and of a grid whose arms share a pit_rm, and of an
// EMA-smoothed curve: the fixes of issue 15 (ticks, subtitles, titles,
// curated curves, one gap panel per PIT reward model).
func TestFigureFixesGolden(t *testing.T) {
	single := &Results{Experiment: "fixes", Runs: []*Run{pitRun("baseline", true, 1, "k1"), pitRun("baseline", true, 2, "k2")}}
	grid := &Results{Experiment: "fixes", Runs: []*Run{
		pitRun("curriculum=a", true, 1, "k1"), pitRun("curriculum=b", false, 1, "k1"), pitRun("curriculum=c", false, 1, "k3"),
	}}
	type fig struct {
		name string
		res  *Results
		spec Spec
	}
	var figs []fig
	for _, s := range DefaultSpecs(single) {
		figs = append(figs, fig{"single " + s.Output, single, s})
	}
	figs = append(figs,
		fig{"single smoothed curve", single, Spec{Kind: Curve, Stage: "pit_rl", Metrics: []string{"reward", "kl"}, Smoothing: 0.6}},
		fig{"grid gaps", grid, Spec{Kind: Gaps}},
		fig{"single methods ablation", single, Spec{Kind: Ablation, Methods: []string{"pit", "null"}}},
	)
	var got bytes.Buffer
	dir := t.TempDir()
	for i, f := range figs {
		f.spec.Output = fmt.Sprintf("f%d.svg", i)
		o, err := Draw(context.Background(), f.res, f.spec, Options{OutDir: dir})
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		data, err := os.ReadFile(o.Path)
		if err != nil {
			t.Fatal(err)
		}
		w, h, texts := svgTexts(t, data)
		fmt.Fprintf(&got, "== %s: %s × %s\n%s\n", f.name, w, h, strings.Join(texts, "\n"))
		all := strings.Join(texts, "\n")
		for _, bad := range []string{"baseline (baseline)", "\n-", "\n−0\n", "kl_coef", "map["} {
			if strings.Contains("\n"+all+"\n", bad) {
				t.Errorf("%s: has %q:\n%s", f.name, bad, all)
			}
		}
		switch f.name {
		case "single curve-pit_rl":
			// The curated curves: reward, oracle gain, KL; 0 labelled on the
			// reward axis, negative ticks with U+2212.
			for _, want := range []string{"reward", "oracle_gain", "kl", "\n0\n", "\n−"} {
				if !strings.Contains("\n"+all+"\n", want) {
					t.Errorf("%s: no %q:\n%s", f.name, want, all)
				}
			}
			if strings.Contains(all, "entropy") || strings.Contains(all, "reward/length") {
				t.Errorf("%s: not the curated set:\n%s", f.name, all)
			}
		case "single iterations-pit":
			if !slices.Contains(texts, "0") {
				t.Errorf("%s: iteration 0 not labelled 0:\n%s", f.name, all)
			}
		case "single smoothed curve":
			if !strings.Contains(all, "exponential moving average (weight 0.6)") {
				t.Errorf("%s: the subtitle does not say the lines are smoothed:\n%s", f.name, all)
			}
		case "single methods ablation":
			// The methods of the one arm: none of them is "the baseline".
			if strings.Contains(all, "baseline") {
				t.Errorf("%s: a method marked as the baseline:\n%s", f.name, all)
			}
		case "grid gaps":
			// a and b share pit_rm k1: one panel for both.
			n := 0
			for _, s := range texts {
				if strings.Contains(s, "g_wl > g_lw") {
					n++
				}
			}
			if n != 2 || !strings.Contains(all, "curriculum=a (baseline) = curriculum=b: g_wl > g_lw") {
				t.Errorf("%s: %d gap panels, want 2 with a and b sharing one:\n%s", f.name, n, all)
			}
		}
	}
	checkGolden(t, "figure-fixes.svg.txt", got.Bytes())
	// --all draws what the curated set leaves out: the constant series and
	// the reward components.
	var allMetrics []string
	for _, s := range AllSpecs(single) {
		allMetrics = append(allMetrics, s.Metrics...)
	}
	for _, m := range []string{"kl_coef", "entropy", "reward/length", "reward/length_std"} {
		if !slices.Contains(allMetrics, m) {
			t.Errorf("AllSpecs draws no %s (curves: %v)", m, allMetrics)
		}
	}
}
