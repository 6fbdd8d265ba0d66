package nn

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// TestAdamWMomentPrecision trains the same model with float32 and float64
// AdamW moments: the moments are stored as configured, and the weights
// stay within float32 rounding of each other over a few steps.
func TestAdamWMomentPrecision(t *testing.T) {
	weights := map[bool]map[string][]float64{}
	for _, m64 := range []bool{false, true} {
		m := mustModel(t, smallConfig(21))
		tr := mustTrainer(t, m, OptimConfig{LR: 1e-3, WeightDecay: 0.1, ClipNorm: 1, Moments64: m64})
		for _, mo := range tr.opt.m {
			if (mo.f64 != nil) != m64 || (mo.f32 != nil) == m64 {
				t.Fatalf("Moments64=%v: moments stored as %T", m64, mo)
			}
		}
		rng := rand.New(rand.NewPCG(7, 7))
		for range 5 {
			if _, err := tr.SFTStep(copyBatch(rng, 8, 4)); err != nil {
				t.Fatal(err)
			}
		}
		weights[m64] = m.Weights()
	}
	var maxDiff float64
	for name, w32 := range weights[false] {
		for i, x := range w32 {
			maxDiff = math.Max(maxDiff, math.Abs(x-weights[true][name][i]))
		}
	}
	// 5 steps of lr 1e-3 move a weight by at most ~5e-3; the moments'
	// rounding changes that by a tiny fraction.
	if maxDiff == 0 || maxDiff > 1e-5 {
		t.Fatalf("float32 and float64 moments: weights differ by up to %v, want (0, 1e-5]", maxDiff)
	}
}

// TestAdamWMomentsFloat64Model checks that a float64 model keeps float64
// moments without Moments64.
func TestAdamWMomentsFloat64Model(t *testing.T) {
	cfg := smallConfig(3)
	cfg.DType = "float64"
	tr := mustTrainer(t, mustModel(t, cfg), OptimConfig{LR: 1e-3})
	for _, mo := range append(slices.Clone(tr.opt.m), tr.opt.v...) {
		if mo.f64 == nil || mo.f32 != nil {
			t.Fatal("a float64 model got float32 moments")
		}
	}
}

// TestCheckpointMomentConversion saves trainers with float32 and float64
// moments, including a checkpoint laid out as before float32 moments
// existed (float64 M and V only), and loads each with either setting: the
// moments arrive converted, the step count and weights unchanged.
func TestCheckpointMomentConversion(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name         string
		save, load64 bool
		old          bool // drop M32/V32 as a pre-issue-17 checkpoint has none
	}{
		{"f32-to-f32", false, false, false},
		{"f32-to-f64", false, true, false},
		{"f64-to-f32", true, false, false},
		{"f64-to-f64", true, true, false},
		{"old-f64-to-f32", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustModel(t, smallConfig(9))
			tr := mustTrainer(t, m, OptimConfig{LR: 1e-3, Moments64: tc.save})
			rng := rand.New(rand.NewPCG(2, 2))
			for range 3 {
				if _, err := tr.SFTStep(copyBatch(rng, 8, 4)); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, tc.name+".ckpt")
			if err := tr.Save(path); err != nil {
				t.Fatal(err)
			}
			c, err := readCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			if tc.old {
				c.M32, c.V32 = nil, nil
			}
			c.Optim.Moments64 = tc.load64
			if err := writeCheckpoint(path, c); err != nil {
				t.Fatal(err)
			}
			tr2, err := LoadTrainer(path)
			if err != nil {
				t.Fatal(err)
			}
			if tr2.Steps() != 3 || tr2.OptimConfig().Moments64 != tc.load64 {
				t.Fatalf("loaded %d steps, Moments64 %v", tr2.Steps(), tr2.OptimConfig().Moments64)
			}
			for i := range tr.opt.m {
				for _, pair := range [][2]moment{{tr.opt.m[i], tr2.opt.m[i]}, {tr.opt.v[i], tr2.opt.v[i]}} {
					saved, loaded := pair[0], pair[1]
					if (loaded.f64 != nil) != tc.load64 {
						t.Fatalf("parameter %d: loaded moments are not in the requested precision", i)
					}
					for j := range saved.len() {
						want := saved.at(j)
						if !tc.load64 {
							want = float64(float32(want))
						}
						if loaded.at(j) != want {
							t.Fatalf("parameter %d moment %d: loaded %v, saved %v", i, j, loaded.at(j), saved.at(j))
						}
					}
				}
			}
			// The resumed trainer keeps training.
			if _, err := tr2.SFTStep(copyBatch(rng, 8, 4)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCheckpointMomentShape checks that a checkpoint whose moments do not
// fit the model is refused.
func TestCheckpointMomentShape(t *testing.T) {
	tr := mustTrainer(t, mustModel(t, smallConfig(9)), OptimConfig{LR: 1e-3})
	path := filepath.Join(t.TempDir(), "t.ckpt")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	c, err := readCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	c.V32[1] = c.V32[1][:len(c.V32[1])-1]
	if err := writeCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrainer(path); err == nil {
		t.Fatal("LoadTrainer accepted a moment of the wrong size")
	}
}

// TestAdamWOneWorker updates a parameter large enough to be split between
// workers with GOMAXPROCS=1 (where the split used to recurse without end)
// and with the default workers: the results agree bit for bit.
func TestAdamWOneWorker(t *testing.T) {
	n := 1 << 15
	run := func() []float32 {
		w := make([]float32, n)
		g := make([]float32, n)
		for i := range w {
			w[i], g[i] = float32(i%7)/7, float32(i%5)-2
		}
		p := &param{name: "w", shape: []int{n}, decay: true, t: tensorOf(w)}
		o := newAdamW(OptimConfig{LR: 0.1, WeightDecay: 0.1}.WithDefaults(), []*param{p})
		o.update([]*param{p}, []array{tensorOf(g)}, 1)
		return w
	}
	par := run()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if one := run(); !slices.Equal(one, par) {
		t.Fatal("one worker and several give different updates")
	}
}

// BenchmarkAdamW measures one AdamW update of 4 Mi float32 weights (about
// a d512/L6 model) with float32 moments (the default) and float64 ones
// (Moments64), and reports nanoseconds per parameter.
func BenchmarkAdamW(b *testing.B) {
	for _, m64 := range []bool{false, true} {
		name := "moments32"
		if m64 {
			name = "moments64"
		}
		b.Run(name, func(b *testing.B) {
			n := 1 << 22
			w, g := make([]float32, n), make([]float32, n)
			for i := range w {
				w[i], g[i] = float32(i%7)/7, float32(i%5)-2
			}
			p := &param{name: "w", shape: []int{n}, decay: true, t: tensorOf(w)}
			o := newAdamW(OptimConfig{LR: 1e-4, WeightDecay: 0.1, Moments64: m64}.WithDefaults(), []*param{p})
			grads := []array{tensorOf(g)}
			for b.Loop() {
				o.update([]*param{p}, grads, 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
		})
	}
}
