//go:build cudaemu && !cuda

package nn

import (
	"fmt"
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
// the Go kernels and one through the emulated GPU kernels, with SFT and
// comparison steps, and checks that losses, weights, rewards, token scores
// and greedy samples agree to float32 rounding.
func TestEmulatedGPUMatchesCPU(t *testing.T) {
	cfg := emuConfig()
	batch := func(rng *rand.Rand) [][]int { return emuSeqs(rng, 4, cfg.Vocab, cfg.Context) }
	oc := OptimConfig{LR: 3e-3, ClipNorm: 1}
	cpu := trainAndProbe(t, cfg, oc, 4, 1, batch)
	withEmulatedGPU(t)
	emu := trainAndProbe(t, cfg, oc, 4, 1, batch)
	compareProbes(t, "emulated", emu, cpu, 1e-4)
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

// emuLlamaConfig is a Llama-family model whose shapes make the kernels
// launch several blocks and leave partial ones: grouped-query attention
// (six query heads over two key/value heads of width 8), 120 rows.
func emuLlamaConfig() Config {
	return Config{Arch: ArchLlama, Vocab: 20, Context: 40, DModel: 48, Layers: 2, Heads: 6, KVHeads: 2, MLP: 80,
		RMSEps: 1e-5, RopeTheta: 10000, Seed: 5}
}

// TestEmulatedGPULlamaMatchesCPU is TestEmulatedGPUMatchesCPU for a
// Llama-family model: RMSNorm, rotary positions, grouped-query attention,
// SwiGLU and the token embedding through their GPU kernels, forward and
// backward.
func TestEmulatedGPULlamaMatchesCPU(t *testing.T) {
	cfg := emuLlamaConfig()
	batch := func(rng *rand.Rand) [][]int { return emuSeqs(rng, 4, cfg.Vocab, cfg.Context) }
	oc := OptimConfig{LR: 3e-3, ClipNorm: 1}
	cpu := trainAndProbe(t, cfg, oc, 4, 1, batch)
	withEmulatedGPU(t)
	emu := trainAndProbe(t, cfg, oc, 4, 1, batch)
	compareProbes(t, "emulated", emu, cpu, 1e-4)
}

// TestEmulatedLlamaOps runs each Llama op and its gradient ops through the
// Go kernels and through the emulated GPU kernels on the same random
// inputs and compares every output; the residual chains also run the
// norms' fused gradient ops (RMSNormGradXAcc, LayerNormGradXAcc).
func TestEmulatedLlamaOps(t *testing.T) {
	a := gqaShape{B: 3, T: 11, H: 6, KV: 2, Dh: 8}
	ids := []int{0, 3, 19, 7, 7, 2}
	cases := []struct {
		name   string
		shapes [][]int
		build  func(in []*node) (*node, error)
	}{
		{"RMSNorm", [][]int{{33, 48}, {48}}, func(in []*node) (*node, error) { return rmsNorm(in[0], in[1], 1e-5) }},
		{"ResidualRMSNorm", [][]int{{33, 48}, {48}, {48}}, func(in []*node) (*node, error) {
			return residualNormChain(in[0], func(x *node, l int) (*node, error) { return rmsNorm(x, in[1+l], 1e-5) })
		}},
		{"ResidualLayerNorm", [][]int{{33, 48}, {48}, {48}, {48}, {48}}, func(in []*node) (*node, error) {
			return residualNormChain(in[0], func(x *node, l int) (*node, error) {
				return layerNorm(x, in[1+2*l], in[2+2*l], lnEps)
			})
		}},
		{"RoPE", [][]int{{a.B * a.T, a.width()}}, func(in []*node) (*node, error) { return rope(in[0], a, 500000) }},
		{"GQAttention", [][]int{{a.B * a.T, a.width()}}, func(in []*node) (*node, error) { return gqAttention(in[0], a) }},
		{"SwiGLU", [][]int{{37, 2 * 30}}, func(in []*node) (*node, error) { return swiglu(in[0]) }},
		{"TokenEmbed", [][]int{{20, 12}}, func(in []*node) (*node, error) { return tokenEmbed(in[0], &ids) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func() map[string][]float64 {
				rng := rand.New(rand.NewPCG(3, 4))
				g := newExprGraph()
				var in []*node
				for i, s := range tc.shapes {
					x := newArray(dtFloat32, s...)
					for j := range x.Float32s() {
						x.Float32s()[j] = float32(rng.NormFloat64())
					}
					in = append(in, sharedNode(g, x, shape(s), fmt.Sprint("in", i)))
				}
				y, err := tc.build(in)
				if err != nil {
					t.Fatal(err)
				}
				// a random linear function of y, so that every gradient op runs
				w := newArray(dtFloat32, y.Shape()...)
				for j := range w.Float32s() {
					w.Float32s()[j] = float32(rng.NormFloat64())
				}
				cost, err := dotLoss32(y, w.Float32s())
				if err != nil {
					t.Fatal(err)
				}
				grads, err := backprop(g, cost, in)
				if err != nil {
					t.Fatal(err)
				}
				var out []float64
				if _, err := capture(y, &out); err != nil {
					t.Fatal(err)
				}
				vm := newTapeMachine(g)
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				res := map[string][]float64{"y": out}
				for i, gr := range grads {
					res[fmt.Sprint("d", i)] = toF64(gr)
				}
				return res
			}
			cpu := run()
			withEmulatedGPU(t)
			emu := run()
			for name, want := range cpu {
				got := emu[name]
				var worst float64
				for i := range want {
					worst = math.Max(worst, math.Abs(got[i]-want[i])/(1+math.Abs(want[i])))
				}
				if worst > 1e-5 {
					t.Errorf("%s: emulated GPU and CPU differ by up to %.3g", name, worst)
				}
			}
		})
	}
}

// dotLoss32 is Σ y ⊙ c as a float32 scalar op whose gradient is c.
func dotLoss32(y *node, c []float32) (*node, error) {
	return lossNode("Dot", y, func(x, grad []float32) (float64, error) {
		var s float64
		for i, v := range x {
			s += float64(v) * float64(c[i])
		}
		copy(grad, c)
		return s, nil
	}, nil)
}
