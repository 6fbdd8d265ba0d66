package plots

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
)

func TestTickLabels(t *testing.T) {
	var labels []string
	for _, tk := range integerTicks(-0.4, 3) {
		labels = append(labels, tk.Label)
	}
	if strings.Join(labels, " ") != "0 1 2 3" {
		t.Errorf("iteration ticks %q, want 0 1 2 3 (no −0)", labels)
	}
	zero, minus := false, false
	for _, tk := range cleanTicks(-37, 28) {
		if tk.Value == 0 && tk.Label == "0" {
			zero = true
		}
		if strings.HasPrefix(tk.Label, "\u2212") {
			minus = true
		}
		if strings.HasPrefix(tk.Label, "-") {
			t.Errorf("tick %q uses a hyphen for minus", tk.Label)
		}
	}
	if !zero || !minus {
		t.Errorf("ticks of [−37, 28]: zero labelled %v, a − label %v", zero, minus)
	}
}

func TestFormatValueTables(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{map[string]any{"plugin": "grpo", "config": map[string]any{"group_size": int64(4), "kl_coef": 0.2}}, "grpo(group_size=4,kl_coef=0.2)"},
		{map[string]any{"plugin": "round0-only"}, "round0-only()"},
		{map[string]any{"steps": int64(0), "lr": 5e-4}, "{lr=0.0005,steps=0}"},
		{[]any{0.2, 0.4}, "[0.2,0.4]"},
		{"two-round", "two-round"},
	} {
		if got := formatValue(tc.v); got != tc.want {
			t.Errorf("formatValue(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestLegendLabelBaseline(t *testing.T) {
	for _, tc := range []struct {
		g    group
		want string
	}{
		{group{label: "baseline", baseline: true}, "baseline"},
		{group{label: "all", baseline: true}, "all"},
		{group{label: "curriculum=two-round", baseline: true}, "curriculum=two-round (baseline)"},
		{group{label: "curriculum=round0-only"}, "curriculum=round0-only"},
	} {
		if got := legendLabel(&tc.g); got != tc.want {
			t.Errorf("legendLabel(%q) = %q, want %q", tc.g.label, got, tc.want)
		}
	}
}

// TestCurveSmoothingGolden: a smoothed curve says so under its title; the
// figure's text is pinned by a golden file.
func TestCurveSmoothingGolden(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	o, err := Draw(context.Background(), res, Spec{Kind: Curve, Metric: "reward", Stage: "pit_rl", Smoothing: 0.6, Output: "c.svg"}, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(o.Path)
	if err != nil {
		t.Fatal(err)
	}
	w, h, texts := svgTexts(t, data)
	got := []byte("size " + w + " × " + h + "\n" + strings.Join(texts, "\n") + "\n")
	if !bytes.Contains(got, []byte("exponential moving average (weight 0.6)")) {
		t.Errorf("smoothed curve does not say so:\n%s", got)
	}
	checkGolden(t, "curve-smoothed.svg.txt", got)
}

// TestDefaultCurvesCurated: the default set's learning curves are the
// curated series that vary; --all (AllSpecs) keeps every logged metric.
func TestDefaultCurvesCurated(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	count := func(specs []Spec) (n int) {
		for _, s := range specs {
			if s.Kind == Curve {
				for _, m := range s.Metrics {
					if !slices.Contains(paperCurves[s.Stage], m) {
						n += 1000 // not curated
					}
					n++
				}
			}
		}
		return n
	}
	def, all := count(DefaultSpecs(res)), count(AllSpecs(res))
	if def == 0 || def >= 1000 {
		t.Errorf("default curves: %d (≥ 1000 means a metric outside the curated set)", def)
	}
	if all <= def {
		t.Errorf("AllSpecs draws %d curve panels, DefaultSpecs %d: want more", all, def)
	}
}

// TestGapPanelsShared: arms whose runs used the same pit_rm models have the
// same gap scores; they get one panel naming them all.
func TestGapPanelsShared(t *testing.T) {
	run := func(key string) *Run {
		return &Run{Manifest: results.Manifest{Stages: []results.StageRecord{{Name: "pit_rm", Key: key}}}}
	}
	groups := []*group{
		{label: "curriculum=two-round", baseline: true, runs: []*Run{run("k1"), run("k2")}},
		{label: "curriculum=round0-only", runs: []*Run{run("k2"), run("k1")}},
		{label: "consistency=0.5", runs: []*Run{run("k3"), run("k4")}},
	}
	got := mergeSameGapModel(groups)
	if len(got) != 2 || got[0].label != "curriculum=two-round (baseline) = curriculum=round0-only" || got[1].label != "consistency=0.5" {
		var labels []string
		for _, g := range got {
			labels = append(labels, g.label)
		}
		t.Errorf("panels %q", labels)
	}
	if groups[0].label != "curriculum=two-round" {
		t.Error("merging changed the caller's groups")
	}
	if all := mergeSameGapModel(groups[:2]); len(all) != 1 || all[0].label != "all 2 arms (one pit_rm)" {
		t.Errorf("every arm shares pit_rm: %d panels, %q", len(all), all[0].label)
	}
}

// TestMethodsOfOneArm: the eval methods of a single arm (methods = [...])
// are bars or lines of their own, none of them "(baseline)"; with several
// arms each keeps its arm's mark.
func TestMethodsOfOneArm(t *testing.T) {
	spec := &Spec{Methods: []string{"pit", "null"}}
	one := byMethod([]*group{{label: "baseline", baseline: true}}, spec)
	for _, g := range one {
		if g.baseline || legendLabel(g) != g.method {
			t.Errorf("one arm: method %s labelled %q, baseline %v", g.method, legendLabel(g), g.baseline)
		}
	}
	two := byMethod([]*group{{label: "a", baseline: true}, {label: "b"}}, spec)
	if !two[0].baseline || !two[1].baseline || two[2].baseline || legendLabel(two[0]) != "a · pit (baseline)" {
		t.Errorf("two arms: %q %v %v %v", legendLabel(two[0]), two[0].baseline, two[1].baseline, two[2].baseline)
	}
}

// TestTicksEvenlySpaced: tick labels sit at the multiples of one round step,
// 0 among them when the axis spans it, with U+2212 for minus.
func TestTicksEvenlySpaced(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		want     []string
	}{
		{-0.33, 0.41, []string{"−0.2", "0", "0.2", "0.4"}},
		{-55, 60, []string{"−40", "−20", "0", "20", "40", "60"}},
		{0.1, 0.35, []string{"0.1", "0.15", "0.2", "0.25", "0.3", "0.35"}},
		{-3e-5, 1e-5, []string{"−3e−05", "−2e−05", "−1e−05", "0", "1e−05"}},
	} {
		var got []string
		for _, tk := range cleanTicks(tc.min, tc.max) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("cleanTicks(%g, %g) labels %q, want %q", tc.min, tc.max, got, tc.want)
		}
	}
	var got []string
	for _, tk := range integerTicks(-0.3, 3.3) {
		got = append(got, tk.Label)
	}
	if want := []string{"0", "1", "2", "3"}; !slices.Equal(got, want) {
		t.Errorf("integerTicks(-0.3, 3.3) = %q, want %q", got, want)
	}
}
