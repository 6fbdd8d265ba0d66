//go:build cudaemu && !cuda

package nn

import (
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
