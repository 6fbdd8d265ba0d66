//go:build cuda

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The CUDA checks of scripts/cuda/device-check.sh: they need the CUDA
// build (scripts/cuda/build.sh) and a GPU, and skip without one.

// cudaTolerance is how far CUDA and CPU results may differ, relative to
// 1 + |CPU value|: float32 sums in other orders (cuBLAS, per-thread
// reductions) after a few optimiser steps.
const cudaTolerance = 1e-3

func needCUDA(t testing.TB) {
	t.Helper()
	if err := checkDevice(Config{Device: "cuda"}); err != nil {
		t.Skipf("no usable GPU: %v", err)
	}
}

func onDevice(cfg Config, device string) Config {
	cfg.Device = device
	return cfg
}

// TestCUDAMatchesCPU trains one model on the CPU and on the GPU from the
// same weights at the reference shape (SFT and comparison steps, forward
// and backward), then compares losses, weights, rewards, token scores
// and greedy samples.
func TestCUDAMatchesCPU(t *testing.T) {
	needCUDA(t)
	cfg := refConfig()
	batch := func(rng *rand.Rand) [][]int { return refBatchData(rng, cfg).Seqs }
	oc := OptimConfig{LR: 1e-3, ClipNorm: 1}
	cpu := trainAndProbe(t, onDevice(cfg, "cpu"), oc, 4, 2, batch)
	gpu := trainAndProbe(t, onDevice(cfg, "cuda"), oc, 4, 2, batch)
	compareProbes(t, "CUDA", gpu, cpu, cudaTolerance)
}

// TestCUDALlamaMatchesCPU is TestCUDAMatchesCPU for a Llama-family model
// with grouped-query attention: RMSNorm, rotary positions, grouped-query
// attention, SwiGLU and the token embedding through their GPU kernels.
func TestCUDALlamaMatchesCPU(t *testing.T) {
	needCUDA(t)
	cfg := Config{Arch: ArchLlama, Vocab: 64, Context: 32, DModel: 64, Layers: 2, Heads: 4, KVHeads: 2, MLP: 192, Seed: 1}
	batch := func(rng *rand.Rand) [][]int { return refBatchData(rng, cfg).Seqs }
	oc := OptimConfig{LR: 1e-3, ClipNorm: 1}
	cpu := trainAndProbe(t, onDevice(cfg, "cpu"), oc, 4, 2, batch)
	gpu := trainAndProbe(t, onDevice(cfg, "cuda"), oc, 4, 2, batch)
	compareProbes(t, "CUDA", gpu, cpu, cudaTolerance)
}

// TestCUDASFTCurve trains the copy task for 60 steps on each device and
// compares the loss curves.
func TestCUDASFTCurve(t *testing.T) {
	needCUDA(t)
	curve := func(device string) []float64 {
		m := mustModel(t, onDevice(smallConfig(1), device))
		tr := mustTrainer(t, m, OptimConfig{LR: 3e-3, WarmupSteps: 20, ClipNorm: 1})
		defer tr.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		var out []float64
		for step := 0; step < 60; step++ {
			loss, err := tr.SFTStep(copyBatch(rng, 16, 5))
			if err != nil {
				t.Fatalf("%s step %d: %v", device, step, err)
			}
			out = append(out, loss)
		}
		return out
	}
	cpu, gpu := curve("cpu"), curve("cuda")
	worst := 0.0
	for i := range cpu {
		worst = math.Max(worst, math.Abs(cpu[i]-gpu[i]))
		if i%10 == 0 || i == len(cpu)-1 {
			t.Logf("step %2d  cpu %.5f  cuda %.5f", i, cpu[i], gpu[i])
		}
	}
	t.Logf("largest loss difference over 60 steps: %.3g", worst)
	if worst > 0.02 {
		t.Errorf("loss curves differ by up to %.3g (> 0.02)", worst)
	}
	if gpu[len(gpu)-1] > gpu[0]-0.5 {
		t.Errorf("CUDA loss went %.3f -> %.3f: not learning", gpu[0], gpu[len(gpu)-1])
	}
}

// largeConfig is the larger shape of the GPU benchmarks: d_model 512,
// 6 layers, 8 heads, context 128 (batch 32).
func largeConfig() Config {
	return Config{Vocab: 64, Context: 128, DModel: 512, Layers: 6, Heads: 8, MLP: 2048, Seed: 1}
}

// BenchmarkDevice measures a training step (forward, backward, AdamW on 32
// full sequences) and sampling (32 sequences from a one-token prompt to
// the context length) at the reference and the large shape, on the CPU
// and on the GPU, in tokens/s.
func BenchmarkDevice(b *testing.B) {
	shapes := []struct {
		name string
		cfg  Config
	}{{"ref", refConfig()}, {"large", largeConfig()}}
	for _, sh := range shapes {
		for _, device := range []string{"cpu", "cuda"} {
			cfg := onDevice(sh.cfg, device)
			b.Run(fmt.Sprintf("TrainStep/%s/%s", sh.name, device), func(b *testing.B) {
				if device == "cuda" {
					needCUDA(b)
				}
				benchTrainStep(b, cfg)
			})
			b.Run(fmt.Sprintf("Sample/%s/%s", sh.name, device), func(b *testing.B) {
				if device == "cuda" {
					needCUDA(b)
				}
				benchSample(b, cfg)
			})
		}
	}
}
