package plots

import (
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want []string // substrings of the error; none means valid
	}{
		{"curve", Spec{Kind: Curve, Metric: "loss"}, nil},
		{"gaps", Spec{Kind: Gaps, Style: "histogram", Bins: 20, Output: "a/b.pdf"}, nil},
		{"sweep", Spec{Kind: Sweep, X: "temperature", Width: "8.5cm", Height: "60mm"}, nil},
		{"no kind", Spec{}, []string{`kind: "" is not a figure kind`}},
		{"curve without metric", Spec{Kind: Curve}, []string{"a curve needs a metric"}},
		{"curve of eval measure", Spec{Kind: Curve, Metric: "delta"}, []string{"is an eval measure"}},
		{"sweep without x", Spec{Kind: Sweep}, []string{"a sweep needs x"}},
		{"both metric forms", Spec{Kind: Ablation, Metric: "a", Metrics: []string{"b"}}, []string{"metrics: give metric or metrics, not both"}},
		{"both judge forms", Spec{Kind: Ablation, Judge: "a", Judges: []string{"b"}}, []string{"judges: give judge or judges"}},
		{"many at once", Spec{Kind: Iterations, Stat: "mode", CI: "jackknife", Level: 95, Smoothing: 1, Style: "violin",
			Format: "gif", Output: "x.jpg", Width: "wide", Height: "-2in", DPI: 5000, Bins: -1, Resamples: -3, Iteration: -1},
			[]string{"stat:", "ci:", "level:", "smoothing:", "style:", "format:", "extension .jpg", "width:", "height:", "dpi:", "bins:", "resamples:", "iteration:"}},
		{"escaping output", Spec{Kind: Gaps, Output: "../x.png"}, []string{"relative path inside"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSetDefaults(t *testing.T) {
	s := Spec{Kind: Ablation, Judge: "oracle"}
	s.SetDefaults()
	if s.Metric != "delta" || s.Method != "pit" || s.Iteration != 1 || s.Stat != "mean" || s.CI != "seeds" ||
		s.Level != 0.95 || s.Resamples != 2000 || s.Seed != 1 || s.DPI != 300 || s.Format != "png" {
		t.Errorf("defaults %+v", s)
	}
	if s.Output != "ablation-delta-oracle.png" {
		t.Errorf("output %q", s.Output)
	}
	s = Spec{Kind: Curve, Metric: "loss", Stage: "rm", Output: "figs/loss.PDF"}
	s.SetDefaults()
	if s.Format != "pdf" || s.Output != "figs/loss.PDF" {
		t.Errorf("format %q output %q: the extension should pick the format", s.Format, s.Output)
	}
	s = Spec{Kind: Sweep, X: "kl_beta", Format: "svg"}
	s.SetDefaults()
	if s.Output != "sweep-delta-vs-kl_beta.svg" {
		t.Errorf("output %q", s.Output)
	}
}

func TestParseLength(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want vg.Length
		err  bool
	}{
		{"3.3in", 3.3 * vg.Inch, false},
		{"8.5cm", 8.5 * vg.Centimeter, false},
		{"85mm", 85 * vg.Millimeter, false},
		{"240pt", 240, false},
		{" 100 ", 100, false},
		{"wide", 0, true},
		{"3 furlongs", 0, true},
	} {
		got, err := ParseLength(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseLength(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestReadExperiment(t *testing.T) {
	d, err := ReadExperiment(filepath.Join("testdata", "experiment.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "fake-ablation" || d.Out != "results" {
		t.Errorf("name %q out %q", d.Name, d.Out)
	}
	// out is relative; nothing at ./results/fake-ablation, so it is taken
	// from the file's directory.
	if want := filepath.Join("testdata", "results", "fake-ablation"); d.ResultsDir != want {
		t.Errorf("results dir %q, want %q", d.ResultsDir, want)
	}
	if len(d.Plots) != 3 {
		t.Fatalf("%d plots, want 3", len(d.Plots))
	}
	c := d.Plots[1]
	if c.Kind != Curve || c.Metric != "reward" || c.Smoothing != 0.6 || c.Filter["reward"] != "pit-gap" || c.Width != "3.3in" {
		t.Errorf("curve spec %+v", c)
	}
	if a := d.Plots[2]; len(a.Metrics) != 2 || a.Iteration != 2 || a.Stat != "iqm" {
		t.Errorf("ablation spec %+v", a)
	}
	_, err = ReadExperiment(filepath.Join("testdata", "bad-plot.toml"))
	if err == nil {
		t.Fatal("bad [[plot]] tables accepted")
	}
	for _, w := range []string{"plot.colour: unknown key", `[[plot]] #1: kind: "violin"`, "[[plot]] #2: metric: a curve needs a metric", "smoothing: 1.5", "../escape.png"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
