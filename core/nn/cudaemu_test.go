//go:build cudaemu && !cuda

package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// withEmulatedGPU makes the graphs built until the test ends run their GPU
// kernels through the C emulation.
func withEmulatedGPU(t testing.TB) {
	emulateGPU = emulateOp
	t.Cleanup(func() { emulateGPU = nil })
}

func closeTo(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*(1+math.Abs(b))
}

// emuConfig has shapes that make the kernels launch several blocks and
// leave partial ones: 120 rows of width 48, heads of width 16.
func emuConfig() Config {
	return Config{Vocab: 20, Context: 40, DModel: 48, Layers: 2, Heads: 3, MLP: 96, Seed: 5}
}

func emuSeqs(rng *rand.Rand, n, vocab, maxLen int) [][]int {
	seqs := make([][]int, n)
	for i := range seqs {
		s := make([]int, 2+rng.IntN(maxLen-1))
		for j := range s {
			s[j] = rng.IntN(vocab)
		}
		seqs[i] = s
	}
	return seqs
}

// TestEmulatedGPUMatchesCPU trains two copies of one model, one through
// the Go kernels and one through the emulated GPU kernels, with SFT,
// comparison and policy-gradient steps, and checks that losses, weights,
// rewards, token scores and greedy samples agree to float32 rounding.
func TestEmulatedGPUMatchesCPU(t *testing.T) {
	cfg := emuConfig()
	type result struct {
		losses  []float64
		weights map[string][]float64
		rewards []float64
		scores  [][]float64
		samples [][]int
	}
	run := func(emulate bool) result {
		if emulate {
			withEmulatedGPU(t)
		}
		m := mustModel(t, cfg)
		tr := mustTrainer(t, m, OptimConfig{LR: 3e-3, ClipNorm: 1})
		defer tr.Close()
		rng := rand.New(rand.NewPCG(11, 12))
		var r result
		for step := 0; step < 4; step++ {
			loss, err := tr.SFTStep(Batch{Seqs: emuSeqs(rng, 3, cfg.Vocab, cfg.Context)})
			if err != nil {
				t.Fatal(err)
			}
			r.losses = append(r.losses, loss)
		}
		seqs := emuSeqs(rng, 4, cfg.Vocab, 30)
		st, err := tr.ComparisonStep(seqs, []Pair{{I: 0, J: 1, Weight: 1}, {I: 2, J: 3, Weight: 1}})
		if err != nil {
			t.Fatal(err)
		}
		r.losses = append(r.losses, st.Loss)
		r.weights = m.Weights()
		if r.rewards, err = m.Rewards(t.Context(), seqs); err != nil {
			t.Fatal(err)
		}
		ts, err := m.ScoreTokens(t.Context(), seqs, 1)
		if err != nil {
			t.Fatal(err)
		}
		r.scores = ts.LogProbs
		gens, err := m.Sample(t.Context(), [][]int{{1, 2, 3}, {4}}, SampleOptions{Greedy: true, MaxNew: 10, EOS: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gens {
			r.samples = append(r.samples, g.Tokens)
		}
		return r
	}
	cpu, emu := run(false), run(true)
	for i := range cpu.losses {
		if !closeTo(emu.losses[i], cpu.losses[i], 1e-4) {
			t.Errorf("loss %d: emulated GPU %.7f, CPU %.7f", i, emu.losses[i], cpu.losses[i])
		}
	}
	worst := 0.0
	for name, w := range cpu.weights {
		for i, v := range w {
			worst = math.Max(worst, math.Abs(emu.weights[name][i]-v))
		}
	}
	t.Logf("losses %.5f; largest weight difference after 5 steps %.2g", cpu.losses, worst)
	if worst > 1e-4 {
		t.Errorf("weights differ by up to %.2g", worst)
	}
	for i := range cpu.rewards {
		if !closeTo(emu.rewards[i], cpu.rewards[i], 1e-4) {
			t.Errorf("reward %d: emulated GPU %v, CPU %v", i, emu.rewards[i], cpu.rewards[i])
		}
	}
	for i := range cpu.scores {
		for j := range cpu.scores[i] {
			if !closeTo(emu.scores[i][j], cpu.scores[i][j], 1e-4) {
				t.Fatalf("log-prob [%d][%d]: emulated GPU %v, CPU %v", i, j, emu.scores[i][j], cpu.scores[i][j])
			}
		}
	}
	for i := range cpu.samples {
		if len(emu.samples[i]) != len(cpu.samples[i]) {
			t.Fatalf("sample %d: emulated GPU %v, CPU %v", i, emu.samples[i], cpu.samples[i])
		}
		for j := range cpu.samples[i] {
			if emu.samples[i][j] != cpu.samples[i][j] {
				t.Fatalf("sample %d: emulated GPU %v, CPU %v", i, emu.samples[i], cpu.samples[i])
			}
		}
	}
}

// TestEmulatedBadTokenID checks that the GPU embedding rejects ids outside
// the vocabulary, as the CPU one does.
func TestEmulatedBadTokenID(t *testing.T) {
	withEmulatedGPU(t)
	m := mustModel(t, emuConfig())
	if _, err := m.Rewards(t.Context(), [][]int{{1, 2, 99}}); err == nil {
		t.Fatal("token id 99 in a vocabulary of 20 was accepted")
	}
}
