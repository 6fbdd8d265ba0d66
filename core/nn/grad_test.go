package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gradsOf runs a prepared training graph and returns the loss and a copy
// of every parameter's gradient (nil for unused ones).
func gradsOf(t *testing.T, tr *Trainer, gr *graph) (float64, [][]float64) {
	t.Helper()
	if err := gr.run(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(tr.model.params))
	for i, g := range gr.grads {
		out[gr.tr.order[i].idx] = toF64(g)
	}
	return gr.st.loss, out
}

func randomizeWeights(m *Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	for _, p := range m.params {
		d := p.t.Data().([]float64)
		for i := range d {
			if hasSuffix(p.name, ".g") {
				d[i] = 1 + 0.3*rng.NormFloat64()
			} else {
				d[i] = 0.3 * rng.NormFloat64()
			}
		}
	}
}

func randSeqs(rng *rand.Rand, n, minLen, maxLen, vocab int) [][]int {
	seqs := make([][]int, n)
	for i := range seqs {
		l := minLen + rng.IntN(maxLen-minLen+1)
		for j := 0; j < l; j++ {
			seqs[i] = append(seqs[i], rng.IntN(vocab))
		}
	}
	return seqs
}

func checkModelGrad(t *testing.T, tr *Trainer, prepare func() *graph) {
	t.Helper()
	gr := prepare()
	_, analytic := gradsOf(t, tr, gr)
	rng := rand.New(rand.NewPCG(11, 12))
	const h = 1e-6
	checked := 0
	for pi, p := range tr.model.params {
		if analytic[pi] == nil {
			continue
		}
		d := p.t.Data().([]float64)
		for k := 0; k < 3; k++ {
			j := rng.IntN(len(d))
			old := d[j]
			d[j] = old + h
			lp, _ := gradsOf(t, tr, prepare())
			d[j] = old - h
			lm, _ := gradsOf(t, tr, prepare())
			d[j] = old
			num := (lp - lm) / (2 * h)
			if diff := math.Abs(num - analytic[pi][j]); diff > 1e-7+1e-4*math.Abs(num) {
				t.Errorf("%s[%d]: analytic %.9g, numeric %.9g", p.name, j, analytic[pi][j], num)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d gradient entries checked", checked)
	}
}

// gradArchs are the architectures every whole-model gradient check runs
// on.
var gradArchs = []string{ArchGPT, ArchLlama}

func gradModel(t *testing.T, arch string) *Trainer {
	t.Helper()
	cfg := Config{Vocab: 11, Context: 12, DModel: 8, Layers: 2, Heads: 2, MLP: 12, Seed: 5, DType: "float64"}
	if arch == ArchLlama {
		// grouped-query attention: two query heads share one key/value head
		cfg.Arch, cfg.Heads, cfg.KVHeads, cfg.RMSEps, cfg.RopeTheta = ArchLlama, 4, 2, 1e-5, 100
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	randomizeWeights(m, 9)
	tr, err := NewTrainer(m, OptimConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSFTLossGradient(t *testing.T) {
	for _, arch := range gradArchs {
		t.Run(arch, func(t *testing.T) { testSFTLossGradient(t, arch) })
	}
}

func testSFTLossGradient(t *testing.T, arch string) {
	tr := gradModel(t, arch)
	rng := rand.New(rand.NewPCG(1, 1))
	seqs := randSeqs(rng, 3, 4, 9, 11)
	mask := make([][]bool, len(seqs))
	for i, s := range seqs {
		mask[i] = make([]bool, len(s))
		for j := 2; j < len(s); j++ {
			mask[i][j] = rng.IntN(3) > 0
		}
		mask[i][len(s)-1] = true
	}
	checkModelGrad(t, tr, func() *graph {
		gr, err := tr.prepareSFT(Batch{Seqs: seqs, Mask: mask})
		if err != nil {
			t.Fatal(err)
		}
		return gr
	})
}

func TestComparisonLossGradient(t *testing.T) {
	for _, arch := range gradArchs {
		t.Run(arch, func(t *testing.T) { testComparisonLossGradient(t, arch) })
	}
}

func testComparisonLossGradient(t *testing.T, arch string) {
	tr := gradModel(t, arch)
	rng := rand.New(rand.NewPCG(2, 2))
	seqs := randSeqs(rng, 4, 3, 10, 11)
	// PIT gap loss: inputs 0 = g_wl, 1 = g_ww, 2 = g_ll, 3 = g_lw.
	pairs := []Pair{{0, 1, 0, 1}, {0, 2, 0, 1}, {0, 3, 0.5, 1}, {1, 3, 0, 0.7}, {2, 3, -0.2, 1.3}}
	checkModelGrad(t, tr, func() *graph {
		gr, err := tr.prepareCompare(seqs, pairs)
		if err != nil {
			t.Fatal(err)
		}
		return gr
	})
}

func TestPolicyGradientLossGradient(t *testing.T) {
	knobs := []PGKnobs{
		{ClipRange: 0.2, ValueCoef: 0.5, ValueClip: 0.2, KLCoef: 0.1, KLInLoss: true, KLEstimator: KLK3, EntropyCoef: 0.01, Temperature: 0.7},
		{ClipRange: math.Inf(1), KLCoef: 0.05, KLInLoss: true, KLEstimator: KLK1, Aggregation: AggSeq},
		{ClipRange: 0.1, ValueCoef: 1, EntropyCoef: 0.1, Temperature: 1.3},
	}
	for i, k := range knobs {
		for _, arch := range gradArchs {
			t.Run(fmt.Sprint(arch, i), func(t *testing.T) { testPGLossGradient(t, arch, i, k) })
		}
	}
}

func testPGLossGradient(t *testing.T, arch string, i int, k PGKnobs) {
	tr := gradModel(t, arch)
	rng := rand.New(rand.NewPCG(3, uint64(i)))
	seqs := randSeqs(rng, 3, 5, 11, 11)
	ro := Rollouts{Seqs: seqs}
	for _, s := range seqs {
		n := len(s)
		mask := make([]bool, n)
		old, ref, adv, ret, ov := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for j := 2; j < n; j++ {
			mask[j] = true
			old[j] = -2 + 0.3*rng.NormFloat64()
			ref[j] = -2 + 0.3*rng.NormFloat64()
			adv[j] = rng.NormFloat64()
			ret[j] = rng.NormFloat64()
			ov[j] = 0.5 * rng.NormFloat64()
		}
		ro.Mask = append(ro.Mask, mask)
		ro.OldLogProbs = append(ro.OldLogProbs, old)
		ro.RefLogProbs = append(ro.RefLogProbs, ref)
		ro.Advantages = append(ro.Advantages, adv)
		ro.Returns = append(ro.Returns, ret)
		ro.OldValues = append(ro.OldValues, ov)
	}
	// Old log-probs near the current ones, so some ratios clip and
	// some do not.
	sc, err := tr.model.ScoreTokens(t.Context(), seqs, k.withDefaultsT())
	if err != nil {
		t.Fatal(err)
	}
	for b := range seqs {
		for j := 2; j < len(seqs[b]); j++ {
			ro.OldLogProbs[b][j] = sc.LogProbs[b][j] + 0.25*rng.NormFloat64()
		}
	}
	checkModelGrad(t, tr, func() *graph {
		gr, err := tr.preparePG(ro, k)
		if err != nil {
			t.Fatal(err)
		}
		return gr
	})
}

func (k PGKnobs) withDefaultsT() float64 {
	if k.Temperature == 0 {
		return 1
	}
	return k.Temperature
}

// TestAttention32MatchesReference compares the float32 gemm-based attention
// with the float64 reference kernels, forward and backward.
func TestAttention32MatchesReference(t *testing.T) {
	a := attnShape{B: 3, T: 7, H: 2, D: 16}
	rng := rand.New(rand.NewPCG(4, 4))
	n := a.B * a.T
	qkv64, dy64 := make([]float64, n*3*a.D), make([]float64, n*a.D)
	for i := range qkv64 {
		qkv64[i] = rng.NormFloat64()
	}
	for i := range dy64 {
		dy64[i] = rng.NormFloat64()
	}
	qkv32, dy32 := make([]float32, len(qkv64)), make([]float32, len(dy64))
	for i, v := range qkv64 {
		qkv32[i] = float32(v)
	}
	for i, v := range dy64 {
		dy32[i] = float32(v)
	}
	out64, out32 := make([]float64, n*a.D), make([]float32, n*a.D)
	attnForward(qkv64, out64, a)
	probs := make([]float32, a.B*a.H*a.T*a.T)
	attnForward32(qkv32, out32, probs, a)
	d64, d32 := make([]float64, len(qkv64)), make([]float32, len(qkv64))
	attnBackward(qkv64, dy64, d64, a)
	attnBackward32(qkv32, dy32, d32, probs, a)
	for i := range out64 {
		if math.Abs(out64[i]-float64(out32[i])) > 1e-5 {
			t.Fatalf("forward[%d]: %v vs %v", i, out64[i], out32[i])
		}
	}
	for i := range d64 {
		if math.Abs(d64[i]-float64(d32[i])) > 1e-4 {
			t.Fatalf("backward[%d]: %v vs %v", i, d64[i], d32[i])
		}
	}
}

// TestBiasGelu32MatchesReference checks the float32 GELU (σ form, the gate
// recomputed in the backward pass) against the float64 kernels.
func TestBiasGelu32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, d = 70, 9
	x64, b64, dy64 := make([]float64, n*d), make([]float64, d), make([]float64, n*d)
	for i := range x64 {
		x64[i], dy64[i] = 3*rng.NormFloat64(), rng.NormFloat64()
	}
	for i := range b64 {
		b64[i] = rng.NormFloat64()
	}
	f32 := func(s []float64) []float32 {
		o := make([]float32, len(s))
		for i, v := range s {
			o[i] = float32(v)
		}
		return o
	}
	y64, dx64 := make([]float64, n*d), make([]float64, n*d)
	biasGeluForward(x64, b64, y64, d)
	biasGeluBackward(x64, b64, dy64, dx64, d)
	y32, dx32 := make([]float32, n*d), make([]float32, n*d)
	biasGeluForward(f32(x64), f32(b64), y32, d)
	biasGeluBackward(f32(x64), f32(b64), f32(dy64), dx32, d)
	for i := range y64 {
		if math.Abs(y64[i]-float64(y32[i])) > 1e-5*(1+math.Abs(y64[i])) || math.Abs(dx64[i]-float64(dx32[i])) > 1e-5*(1+math.Abs(dx64[i])) {
			t.Fatalf("element %d: y %v vs %v, dx %v vs %v", i, y64[i], y32[i], dx64[i], dx32[i])
		}
	}
}

// TestLayerNorm32MatchesReference checks the float32 layer norm (cached
// statistics) against the float64 kernels, and the input gradient with an
// incoming gradient (the fused residual-stream backward) bit for bit
// against the plain gradient followed by the addition it replaces.
func TestLayerNorm32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	const n, d = 9, 13
	x, g, b, dy := make([]float64, n*d), make([]float64, d), make([]float64, d), make([]float64, n*d)
	for i := range x {
		x[i], dy[i] = 2+3*rng.NormFloat64(), rng.NormFloat64()
	}
	for i := range g {
		g[i], b[i] = 1+rng.NormFloat64(), rng.NormFloat64()
	}
	f32 := func(s []float64) []float32 {
		o := make([]float32, len(s))
		for i, v := range s {
			o[i] = float32(v)
		}
		return o
	}
	y, dx, dg := make([]float64, n*d), make([]float64, n*d), make([]float64, d)
	lnForward(x, g, b, y, d, lnEps)
	lnBackwardX(x, g, dy, nil, dx, d, lnEps)
	lnBackwardG(x, dy, dg, d, lnEps)
	y32, dx32, dg32, st := make([]float32, n*d), make([]float32, n*d), make([]float32, d), make([]float32, 2*n)
	lnForward32(f32(x), f32(g), f32(b), y32, st, d, lnEps)
	lnBackwardX32(f32(x), f32(g), f32(dy), nil, dx32, st, d)
	lnBackwardG32(f32(x), f32(dy), dg32, st, d)

	acc := make([]float64, n*d)
	for i := range acc {
		acc[i] = rng.NormFloat64()
	}
	acc32 := f32(acc)
	dxAcc, dxAcc32 := make([]float64, n*d), make([]float32, n*d)
	lnBackwardX(x, g, dy, acc, dxAcc, d, lnEps)
	lnBackwardX32(f32(x), f32(g), f32(dy), acc32, dxAcc32, st, d)
	rmsX, rmsAcc := make([]float64, n*d), make([]float64, n*d)
	rmsBackwardX(x, g, dy, nil, rmsX, d, 1e-6)
	rmsBackwardX(x, g, dy, acc, rmsAcc, d, 1e-6)
	rmsX32, rmsAcc32 := make([]float32, n*d), make([]float32, n*d)
	rmsBackwardX(f32(x), f32(g), f32(dy), nil, rmsX32, d, 1e-6)
	rmsBackwardX(f32(x), f32(g), f32(dy), acc32, rmsAcc32, d, 1e-6)
	for i := range dxAcc {
		if dxAcc[i] != acc[i]+dx[i] || dxAcc32[i] != acc32[i]+dx32[i] ||
			rmsAcc[i] != acc[i]+rmsX[i] || rmsAcc32[i] != acc32[i]+rmsX32[i] {
			t.Fatalf("element %d: fused gradients %v %v %v %v, unfused %v %v %v %v", i,
				dxAcc[i], dxAcc32[i], rmsAcc[i], rmsAcc32[i], acc[i]+dx[i], acc32[i]+dx32[i], acc[i]+rmsX[i], acc32[i]+rmsX32[i])
		}
	}
	for _, c := range []struct {
		name string
		a    []float64
		b    []float32
	}{{"y", y, y32}, {"dx", dx, dx32}, {"dg", dg, dg32}} {
		for i := range c.a {
			if math.Abs(c.a[i]-float64(c.b[i])) > 1e-4*(1+math.Abs(c.a[i])) {
				t.Fatalf("%s[%d]: %v vs %v", c.name, i, c.a[i], c.b[i])
			}
		}
	}
}
