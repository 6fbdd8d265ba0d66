package plots

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pit-lab/pit/core/results"
	"github.com/pit-lab/pit/core/stats"
)

// kindSpecs is one spec of every kind, with the fixture it is drawn from.
var kindSpecs = []struct {
	fixture string
	spec    Spec
}{
	{"fake-ablation", Spec{Kind: Curve, Metrics: []string{"reward", "kl"}, Stage: "pit_rl", Smoothing: 0.5}},
	{"fake-ablation", Spec{Kind: Iterations}},
	{"fake-ablation", Spec{Kind: Outcomes, Judge: "bt"}},
	{"fake-ablation", Spec{Kind: Ablation, Metrics: []string{"delta", "mean_oracle"}, Judge: "oracle"}},
	{"fake-ablation", Spec{Kind: Gaps, Style: "histogram", Bins: 15}},
	{"fake-sweep", Spec{Kind: Sweep, X: "kl_beta", Temperature: ptr(0.7)}},
}

func ptr[T any](v T) *T { return &v }

func TestDrawEveryKindEveryFormat(t *testing.T) {
	out := t.TempDir()
	for _, ks := range kindSpecs {
		res := loadFixture(t, ks.fixture)
		for _, format := range Formats {
			spec := ks.spec
			spec.DPI = 100
			spec.Output = "fig/" + string(spec.Kind)
			t.Run(string(spec.Kind)+"."+format, func(t *testing.T) {
				o, err := Draw(context.Background(), res, spec, Options{OutDir: out, Format: format})
				if err != nil {
					t.Fatal(err)
				}
				if want := filepath.Join(out, "fig", string(spec.Kind)+"."+format); o.Path != want {
					t.Errorf("path %s, want %s", o.Path, want)
				}
				data, err := os.ReadFile(o.Path)
				if err != nil {
					t.Fatal(err)
				}
				checkFile(t, format, data)
			})
		}
	}
}

// checkFile checks that data is a well-formed, non-empty file of format.
func checkFile(t *testing.T, format string, data []byte) {
	t.Helper()
	switch format {
	case "png":
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("not a PNG: %v", err)
		}
		// At 100 dpi a figure is at least one 3.3in column wide.
		if cfg.Width < 330 || cfg.Height < 200 {
			t.Errorf("PNG %d×%d, too small", cfg.Width, cfg.Height)
		}
	case "svg":
		w, h, texts := svgTexts(t, data)
		if w == "" || h == "" || len(texts) < 5 {
			t.Errorf("SVG width %q height %q with %d texts", w, h, len(texts))
		}
	case "pdf":
		if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data[len(data)-32:], []byte("%%EOF")) {
			t.Errorf("not a PDF (%d bytes)", len(data))
		}
		if len(data) < 2000 {
			t.Errorf("PDF of %d bytes is too small", len(data))
		}
	}
}

// svgTexts parses an SVG and returns its size and every text element.
func svgTexts(t *testing.T, data []byte) (w, h string, texts []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "svg" && w == "" {
				for _, a := range el.Attr {
					switch a.Name.Local {
					case "width":
						w = a.Value
					case "height":
						h = a.Value
					}
				}
			}
			inText = el.Name.Local == "text"
		case xml.CharData:
			if inText {
				if s := strings.TrimSpace(string(el)); s != "" {
					texts = append(texts, s)
				}
			}
		case xml.EndElement:
			inText = false
		}
	}
	return w, h, texts
}

func TestPNGSize(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	o, err := Draw(context.Background(), res, Spec{Kind: Gaps, Width: "4in", Height: "3in", DPI: 150, Output: "g.png"}, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pngConfig(t, o.Path)
	if cfg.Width != 600 || cfg.Height != 450 {
		t.Errorf("PNG %d×%d, want 600×450 (4in × 3in at 150 dpi)", cfg.Width, cfg.Height)
	}
}

// TestOptionsDPI: Options.DPI (pit plot --dpi) overrides the spec's
// resolution, and out-of-range values are refused.
func TestOptionsDPI(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	dir := t.TempDir()
	o, err := Draw(context.Background(), res, Spec{Kind: Gaps, Width: "4in", Height: "3in", DPI: 150, Output: "g.png"}, Options{OutDir: dir, DPI: 50})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pngConfig(t, o.Path)
	if cfg.Width != 200 || cfg.Height != 150 {
		t.Errorf("PNG %d×%d, want 200×150 (4in × 3in at --dpi 50)", cfg.Width, cfg.Height)
	}
	if _, err := Draw(context.Background(), res, Spec{Kind: Gaps, Output: "h.png"}, Options{OutDir: dir, DPI: 5000}); err == nil || !strings.Contains(err.Error(), "dpi 5000") {
		t.Errorf("dpi 5000: %v", err)
	}
}

// TestSVGGolden pins the text of a figure (title, subtitle, legend, panel
// titles, axis labels, ticks): its structure, not its pixels.
func TestSVGGolden(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	dir := t.TempDir()
	o, err := Draw(context.Background(), res, Spec{Kind: Ablation, Output: "a.svg"}, Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(o.Path)
	if err != nil {
		t.Fatal(err)
	}
	w, h, texts := svgTexts(t, data)
	got := []byte("size " + w + " × " + h + "\n" + strings.Join(texts, "\n") + "\n")
	checkGolden(t, "ablation.svg.txt", got)
	// Same spec, same seed: the same file.
	o2, err := Draw(context.Background(), res, Spec{Kind: Ablation, Output: "b.svg"}, Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	data2, _ := os.ReadFile(o2.Path)
	if !bytes.Equal(data, data2) {
		t.Error("drawing the same figure twice gave different SVGs")
	}
}

func TestCurveNumbers(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	f, notes := built(t, res, Spec{Kind: Curve, Metric: "kl", Stage: "pit_rl"})
	// The rubric arm's seed 2 logged kl = NaN at step 30: it is left out
	// and reported; the failed run of round1-only too.
	for _, want := range []string{
		"run curriculum=two-round,reward=rubric/seed=2: pit_rl/kl is NaN at step 30 (diverged); left out",
		"run curriculum=round1-only,reward=pit-gap/seed=3: status failed: stage pit_rl: reward is NaN at step 36; left out",
	} {
		if !slices.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	s := seriesOf(t, f, 0, "rubric")
	var runs []*Run
	for _, r := range res.Runs {
		if r.Label() == "rubric" && r.Manifest.Seed != 2 {
			runs = append(runs, r)
		}
	}
	for i, x := range s.x {
		var vals []float64
		for _, r := range runs {
			for _, m := range r.Metrics {
				if m.Stage == "pit_rl" && m.Name == "kl" && float64(m.Step) == x {
					vals = append(vals, m.Value)
				}
			}
		}
		if len(vals) != 2 {
			t.Fatalf("step %v: %d values", x, len(vals))
		}
		if want := (vals[0] + vals[1]) / 2; math.Abs(s.y[i]-want) > 1e-12 {
			t.Errorf("step %v: mean %v, want %v", x, s.y[i], want)
		}
		if !(s.lo[i] <= s.y[i] && s.y[i] <= s.hi[i]) || s.lo[i] < min(vals[0], vals[1]) || s.hi[i] > max(vals[0], vals[1]) {
			t.Errorf("step %v: interval [%v, %v] around %v outside the seeds' values %v", x, s.lo[i], s.hi[i], s.y[i], vals)
		}
	}
	if len(s.x) != 21 {
		t.Errorf("%d steps, want 21", len(s.x))
	}
	// Smoothing changes the line but not its first point (debiased EMA).
	g, _ := built(t, res, Spec{Kind: Curve, Metric: "kl", Stage: "pit_rl", Smoothing: 0.8})
	sm := seriesOf(t, g, 0, "rubric")
	if math.Abs(sm.y[0]-s.y[0]) > 1e-12 || sm.y[10] == s.y[10] {
		t.Errorf("smoothing: first %v vs %v, middle %v vs %v", sm.y[0], s.y[0], sm.y[10], s.y[10])
	}
}

func TestIterationsNumbers(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	for _, ci := range []string{"seeds", "prompts"} {
		f, _ := built(t, res, Spec{Kind: Iterations, Judge: "oracle", CI: ci, Seed: 9})
		s := seriesOf(t, f, 0, "two-round")
		if !slices.Equal(s.x, []float64{1, 2, 3}) {
			t.Fatalf("iterations %v", s.x)
		}
		for i, it := range s.x {
			var groups [][]int
			var rowDeltas []float64
			for _, r := range res.Runs {
				if r.Label() != "two-round" {
					continue
				}
				var g []int
				for _, o := range r.Outcomes {
					if o.Method == "pit" && o.Judge == "oracle" && float64(o.Iteration) == it {
						g = append(g, o.Result)
					}
				}
				groups = append(groups, g)
				for _, e := range r.Eval {
					if e.Method == "pit" && e.Judge == "oracle" && float64(e.Iteration) == it {
						rowDeltas = append(rowDeltas, e.Delta)
					}
				}
			}
			b := stats.Bootstrap{Resamples: 2000, Level: 0.95, Seed: 9}
			want, err := b.DeltaOverSeeds(groups)
			if ci == "prompts" {
				want, err = b.Delta(groups)
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.y[i] != want.Point || s.lo[i] != want.Lo || s.hi[i] != want.Hi {
				t.Errorf("ci=%s iteration %v: drew %v [%v, %v], want %+v", ci, it, s.y[i], s.lo[i], s.hi[i], want)
			}
			// Every seed judged 30 prompts, so the pooled Δ is the mean of
			// the eval rows' Δ.
			if m := stats.Mean(rowDeltas); math.Abs(m-s.y[i]) > 1e-9 {
				t.Errorf("iteration %v: pooled Δ %v, mean of eval rows %v", it, s.y[i], m)
			}
		}
	}
}

func TestAblationNumbers(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	f, _ := built(t, res, Spec{Kind: Ablation, Metrics: []string{"mean_oracle", "accuracy"}, Judge: "oracle", Stat: "median", CI: "none"})
	// Panel 0: mean_oracle of the eval rows at iteration 1; panel 1: the
	// final rm accuracy. Median over seeds, computed here directly.
	for _, arm := range []string{"rubric", "two-round", "round1-only"} {
		var oracle, acc []float64
		for _, r := range res.Runs {
			if r.Label() != arm || r.Manifest.Status != results.StatusDone {
				continue
			}
			for _, e := range r.Eval {
				if e.Method == "pit" && e.Judge == "oracle" && e.Iteration == 1 {
					oracle = append(oracle, e.MeanOracle)
				}
			}
			last := -1
			for _, m := range r.Metrics {
				if m.Stage == "rm" && m.Name == "accuracy" && m.Step > last {
					last = m.Step
					if len(acc) < len(oracle) {
						acc = append(acc, m.Value)
					} else {
						acc[len(acc)-1] = m.Value
					}
				}
			}
		}
		if got, want := seriesOf(t, f, 0, arm).y[0], stats.Median(oracle); got != want {
			t.Errorf("%s mean_oracle: drew %v, want %v", arm, got, want)
		}
		if got, want := seriesOf(t, f, 1, arm).y[0], stats.Median(acc); got != want {
			t.Errorf("%s accuracy: drew %v, want %v", arm, got, want)
		}
	}
}

func TestSweepNumbers(t *testing.T) {
	res := loadFixture(t, "fake-sweep")
	f, _ := built(t, res, Spec{Kind: Sweep, X: "kl_beta", Iteration: 2, Temperature: ptr(1.0)})
	s := seriesOf(t, f, 0, "curriculum=two-round")
	if !slices.Equal(s.x, []float64{0.01, 0.05, 0.1, 0.2}) {
		t.Fatalf("x %v", s.x)
	}
	for i, beta := range s.x {
		var ds []float64
		for _, r := range res.Runs {
			if r.Manifest.Factors["curriculum"] != "two-round" || r.Manifest.Factors["kl_beta"] != beta {
				continue
			}
			for _, e := range r.Eval {
				if e.Iteration == 2 && e.Temperature == 1.0 {
					ds = append(ds, 100*(e.Win-e.Lose))
				}
			}
		}
		if len(ds) != 2 || math.Abs(stats.Mean(ds)-s.y[i]) > 1e-9 {
			t.Errorf("β=%v: drew %v, want mean of %v", beta, s.y[i], ds)
		}
	}
	g, _ := built(t, res, Spec{Kind: Sweep, X: "temperature"})
	if s := seriesOf(t, g, 0, "curriculum=round0-only, kl_beta=0.1"); !slices.Equal(s.x, []float64{0.4, 0.7, 1}) {
		t.Errorf("temperature sweep x %v", s.x)
	}
}

func TestOutcomesAndGapsNumbers(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	f, _ := built(t, res, Spec{Kind: Outcomes})
	w, ti, l := seriesOf(t, f, 1, "round0-only/win"), seriesOf(t, f, 1, "round0-only/tie"), seriesOf(t, f, 1, "round0-only/lose")
	for i := range w.y {
		if s := w.y[i] + ti.y[i] + l.y[i]; math.Abs(s-100) > 1e-9 {
			t.Errorf("iteration %v: shares sum to %v", w.x[i], s)
		}
	}
	g, _ := built(t, res, Spec{Kind: Gaps})
	s := seriesOf(t, g, 0, "round0-only/ordered")
	n, ordered := 0, 0
	for _, r := range res.Runs {
		if r.Label() == "round0-only" {
			for _, p := range r.Gaps {
				n++
				if p.WL > p.LW {
					ordered++
				}
			}
		}
	}
	if s.x[0] != float64(n) || math.Abs(s.y[0]-100*float64(ordered)/float64(n)) > 1e-9 {
		t.Errorf("gaps: drew %v pairs, %v%% ordered; want %d, %v", s.x[0], s.y[0], n, 100*float64(ordered)/float64(n))
	}
}

func TestDrawErrors(t *testing.T) {
	abl := loadFixture(t, "fake-ablation")
	sweep := loadFixture(t, "fake-sweep")
	twoStages := tinyResults()
	twoStages.Runs[0].Metrics = append(twoStages.Runs[0].Metrics, results.Metric{Stage: "rm", Step: 0, Name: "loss", Value: 1})
	allNaN := tinyResults()
	allNaN.Runs = allNaN.Runs[:1]
	for _, tc := range []struct {
		name string
		res  *Results
		spec Spec
		want string
	}{
		{"unknown metric", abl, Spec{Kind: Curve, Metric: "perplexity"}, `metric "perplexity" is not in metrics.jsonl of the selected runs (stage/metric available: pit_rl/kl`},
		{"wrong stage", abl, Spec{Kind: Curve, Metric: "kl", Stage: "rm"}, `metric "kl" is not logged by stage "rm" (logged by: pit_rl)`},
		{"ambiguous stage", twoStages, Spec{Kind: Curve, Metric: "loss"}, `metric "loss" is logged by stages rm, sft: set stage`},
		{"all NaN", allNaN, Spec{Kind: Curve, Metric: "loss", Stage: "sft"}, "nothing to draw"},
		{"bad filter", abl, Spec{Kind: Iterations, Filter: map[string]any{"lr": 1}}, `filter: no factor named "lr" (factors: curriculum, reward)`},
		{"empty filter", abl, Spec{Kind: Iterations, Filter: map[string]any{"reward": "ppo"}}, "no finished run matches filter reward=ppo"},
		{"bad group_by", abl, Spec{Kind: Ablation, GroupBy: "lr"}, `group_by: no factor named "lr"`},
		{"non-numeric x", abl, Spec{Kind: Sweep, X: "curriculum"}, `factor "curriculum" of run`},
		{"unknown x", abl, Spec{Kind: Sweep, X: "beta"}, `x: no factor named "beta"`},
		{"unknown method", abl, Spec{Kind: Iterations, Method: "self-refine"}, `no eval results for method "self-refine" in the selected runs (methods: null, pit)`},
		{"unknown judge", abl, Spec{Kind: Iterations, Judge: "gpt-4"}, `judge "gpt-4" has no eval results for method "pit" (judges: oracle, bt)`},
		{"missing temperature", abl, Spec{Kind: Iterations, Temperature: ptr(1.0)}, "temperature 1 has no eval results (temperatures: 0.4)"},
		{"no gaps", sweep, Spec{Kind: Gaps}, "no gap scores (gaps.jsonl)"},
		{"invalid spec", abl, Spec{Kind: "pie"}, `kind: "pie" is not a figure kind`},
		{"bad format", abl, Spec{Kind: Gaps, Output: "g.gif"}, "extension .gif"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Draw(context.Background(), tc.res, tc.spec, Options{OutDir: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDefaultSpecs(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    []string
	}{
		{"fake-ablation", []string{"curve-rm", "curve-pit_rl", "iterations-null", "outcomes-null", "ablation-null", "iterations-pit", "outcomes-pit", "ablation-pit", "gaps"}},
		{"fake-sweep", []string{"curve-pit_rl", "iterations-pit", "outcomes-pit", "ablation-pit", "sweep-temperature", "sweep-kl_beta"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			res := loadFixture(t, tc.fixture)
			specs := DefaultSpecs(res)
			var names []string
			for i := range specs {
				names = append(names, specs[i].Output)
				specs[i].DPI = 60
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("default figures %v, want %v", names, tc.want)
			}
			outs, err := DrawAll(context.Background(), res, specs, Options{OutDir: t.TempDir(), Format: "png"})
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) != len(tc.want) {
				t.Errorf("%d figures drawn, want %d", len(outs), len(tc.want))
			}
			for _, o := range outs {
				if fi, err := os.Stat(o.Path); err != nil || fi.Size() == 0 {
					t.Errorf("%s: %v", o.Path, err)
				}
			}
		})
	}
}

func TestDrawCancelled(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Draw(ctx, res, Spec{Kind: Iterations}, Options{OutDir: t.TempDir()}); err == nil {
		t.Error("a cancelled context drew a figure")
	}
}

func TestDrawExperiment(t *testing.T) {
	dir := filepath.Join(fixturesDir, "fake-sweep")
	out := t.TempDir()
	outs, err := DrawExperiment(context.Background(), dir, []Spec{{Kind: Sweep, X: "temperature", DPI: 50}}, Options{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || filepath.Dir(outs[0].Path) != out {
		t.Fatalf("outputs %+v", outs)
	}
	if fi, err := os.Stat(outs[0].Path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("figure %v, mode %v", err, fi.Mode())
	}
	if outs, err := DrawExperiment(context.Background(), dir, nil, Options{OutDir: out}); err != nil || outs != nil {
		t.Errorf("no specs: %v, %v", outs, err)
	}
}

// TestEdgeCases draws degenerate results: one pair, one step, one seed,
// equal values, non-finite eval rows. Nothing may panic; what cannot be
// drawn is an error or a note.
func TestEdgeCases(t *testing.T) {
	run := func(dir, arm string, seed int64) *Run {
		return &Run{Dir: dir, Manifest: results.Manifest{Experiment: "edge", Arm: arm, Seed: seed, Status: results.StatusDone,
			Factors: map[string]any{"x": float64(seed)}}}
	}
	a, b := run("a/1", "a", 1), run("b/2", "b", 2)
	a.Gaps = []results.GapScore{{Pair: 0, WL: 1, WW: 1, LL: 1, LW: 1}}
	b.Gaps = []results.GapScore{{Pair: 0, WL: math.NaN(), WW: 0, LL: 0, LW: 0}}
	a.Metrics = []results.Metric{{Stage: "s", Step: 5, Name: "m", Value: 3}}
	b.Metrics = []results.Metric{{Stage: "s", Step: 5, Name: "m", Value: math.Inf(1)}}
	a.Eval = []results.EvalRow{{Method: "pit", Iteration: 1, Judge: "oracle", Win: math.NaN()}}
	b.Eval = []results.EvalRow{{Method: "pit", Iteration: 1, Judge: "oracle", Win: 1}}
	res := &Results{Dir: "edge", Experiment: "edge", Runs: []*Run{a, b}}
	for _, tc := range []struct {
		spec      Spec
		wantErr   string
		wantNotes string
	}{
		{Spec{Kind: Gaps, Style: "histogram"}, "", "run b/2: 1 of 1 gap scores are NaN"},
		{Spec{Kind: Gaps}, "", "run b/2: 1 of 1 gap scores are NaN"},
		{Spec{Kind: Curve, Metric: "m"}, "", "run b/2: s/m is +Inf at step 5 (diverged)"},
		{Spec{Kind: Ablation, Metric: "m"}, "", "run b/2: s/m is +Inf at its last step 5 (diverged)"},
		{Spec{Kind: Iterations}, "", "run a/1: delta of pit/oracle iteration 1 is not a number"},
		{Spec{Kind: Outcomes}, "", "run a/1: win/tie/lose of pit/oracle iteration 1 are not numbers; left out"},
		{Spec{Kind: Sweep, X: "x"}, "", "run a/1: delta of pit/oracle iteration 1 is not a number"},
		{Spec{Kind: Iterations, Filter: map[string]any{"x": 1}}, "nothing to draw", ""},
	} {
		t.Run(string(tc.spec.Kind), func(t *testing.T) {
			tc.spec.DPI = 50
			o, err := Draw(context.Background(), res, tc.spec, Options{OutDir: t.TempDir()})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNotes != "" && !strings.Contains(strings.Join(o.Notes, "\n"), tc.wantNotes) {
				t.Errorf("notes %q lack %q", o.Notes, tc.wantNotes)
			}
		})
	}
}

// TestTemperatureFactor: when the eval temperature is a grid factor, each
// run is plotted at its own temperature.
func TestTemperatureFactor(t *testing.T) {
	var runs []*Run
	for i, temp := range []float64{0.4, 0.4, 1.0, 1.0} {
		win := 0.6 - 0.3*temp
		runs = append(runs, &Run{Dir: fmt.Sprintf("t=%v/seed=%d", temp, i), Manifest: results.Manifest{
			Experiment: "t", Arm: fmt.Sprintf("temperature=%v", temp), Seed: int64(i), Status: results.StatusDone,
			Factors: map[string]any{"temperature": temp}},
			Eval: []results.EvalRow{{Method: "pit", Iteration: 1, Judge: "oracle", Temperature: temp, Win: win, Tie: 0.2, Lose: 0.8 - win}}})
	}
	res := &Results{Dir: "t", Experiment: "t", Runs: runs}
	f, _ := built(t, res, Spec{Kind: Sweep, X: "temperature", GroupBy: ""})
	s := seriesOf(t, f, 0, "all")
	// Δ = 100·(win − lose) = 100·(2·(0.6 − 0.3T) − 0.8) = 40 − 60T: 16 at
	// T=0.4, −20 at T=1.
	if !slices.Equal(s.x, []float64{0.4, 1}) || math.Abs(s.y[0]-16) > 1e-9 || math.Abs(s.y[1]+20) > 1e-9 {
		t.Errorf("sweep x %v y %v, want [0.4 1] [16 -20]", s.x, s.y)
	}
	g, notes := built(t, res, Spec{Kind: Iterations})
	if len(g.data) != 2 || !strings.Contains(strings.Join(notes, "\n"), "plotting each run's lowest") {
		t.Errorf("iterations: %d series, notes %q", len(g.data), notes)
	}
}

func TestPDFWorkarounds(t *testing.T) {
	for in, want := range map[string]string{
		"pit_rl · reward":  "pit_rl \xb7 reward",
		"Δ = win% − lose%": "Delta = win% - lose%",
		"0.4–1.0 “T”":      "0.4\x961.0 \x93T\x94",
		"日本":               "??",
	} {
		if got := toCP1252(in); got != want {
			t.Errorf("toCP1252(%q) = %q, want %q", in, got, want)
		}
	}
	// A 22% opaque blue must reach the PDF as blue with alpha 0.22, not
	// as the premultiplied (dark) channels.
	r, g, b, a := straightAlpha{translucent(Palette[0], 0.22)}.RGBA()
	if r>>8 != 0x00 || g>>8 != 0x72 || b>>8 != 0xB2 || a>>8 != 56 {
		t.Errorf("straight channels %x %x %x %x", r>>8, g>>8, b>>8, a>>8)
	}
}

func TestDrawAllDuplicateOutputs(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	specs := []Spec{{Kind: Gaps, DPI: 40}, {Kind: Gaps, Style: "histogram", DPI: 40}, {Kind: Gaps, Output: "other", DPI: 40}}
	outs, err := DrawAll(context.Background(), res, specs, Options{OutDir: t.TempDir(), Format: "svg"})
	if err == nil || !strings.Contains(err.Error(), "figure #2: output gaps.svg is already figure #1's") {
		t.Errorf("error %v", err)
	}
	if len(outs) != 2 || filepath.Base(outs[1].Path) != "other.svg" {
		t.Errorf("outputs %+v", outs)
	}
}

// TestMethods: several eval methods make one series per arm and method,
// each with its own numbers (the null baseline beside PIT).
func TestMethods(t *testing.T) {
	res := loadFixture(t, "fake-ablation")
	f, _ := built(t, res, Spec{Kind: Iterations, Methods: []string{"pit", "null"}, Judge: "oracle", Filter: map[string]any{"curriculum": "two-round", "reward": "pit-gap"}})
	pit, null := seriesOf(t, f, 0, "pit"), seriesOf(t, f, 0, "null")
	if !slices.Equal(pit.x, []float64{1, 2, 3}) || !slices.Equal(null.x, []float64{1}) {
		t.Errorf("pit x %v, null x %v", pit.x, null.x)
	}
	single, _ := built(t, res, Spec{Kind: Iterations, Method: "null", Judge: "oracle", Filter: map[string]any{"curriculum": "two-round", "reward": "pit-gap"}})
	if got := seriesOf(t, single, 0, "two-round"); got.y[0] != null.y[0] {
		t.Errorf("null Δ %v in a methods figure, %v alone", null.y[0], got.y[0])
	}
	a, _ := built(t, res, Spec{Kind: Ablation, Methods: []string{"pit", "null"}, Judge: "oracle"})
	if len(a.data) != 8 {
		t.Errorf("%d bars, want 4 arms × 2 methods", len(a.data))
	}
	seriesOf(t, a, 0, "rubric · null")
	if err := (&Spec{Kind: Ablation, Method: "pit", Methods: []string{"null"}}).Validate(); err == nil {
		t.Error("method and methods both accepted")
	}
}

// checkGolden compares got with testdata/golden/name (rewritten with
// -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", name)
	if *update {
		if err := results.WriteFileAtomic(golden, got); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./plots -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("SVG text differs from %s:\n%s", golden, got)
	}
}

// pngConfig reads a PNG file's size and colour model.
func pngConfig(t *testing.T, path string) image.Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
