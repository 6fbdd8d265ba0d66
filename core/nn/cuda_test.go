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
	type result struct {
		losses  []float64
		weights map[string][]float64
		rewards []float64
		scores  [][]float64
		samples [][]int
	}
	run := func(device string) result {
		m := mustModel(t, onDevice(cfg, device))
		tr := mustTrainer(t, m, OptimConfig{LR: 1e-3, ClipNorm: 1})
		defer tr.Close()
		rng := rand.New(rand.NewPCG(11, 12))
		var r result
		for step := 0; step < 4; step++ {
			loss, err := tr.SFTStep(refBatchData(rng, cfg))
			if err != nil {
				t.Fatalf("%s: %v", device, err)
			}
			r.losses = append(r.losses, loss)
		}
		seqs := refBatchData(rng, cfg).Seqs
		var pairs []Pair
		for i := 0; i+1 < len(seqs); i += 2 {
			pairs = append(pairs, Pair{I: i, J: i + 1, Weight: 1})
		}
		for step := 0; step < 2; step++ {
			st, err := tr.ComparisonStep(seqs, pairs)
			if err != nil {
				t.Fatalf("%s: %v", device, err)
			}
			r.losses = append(r.losses, st.Loss)
		}
		r.weights = m.Weights()
		var err error
		if r.rewards, err = m.Rewards(t.Context(), seqs); err != nil {
			t.Fatal(err)
		}
		ts, err := m.ScoreTokens(t.Context(), seqs, 1)
		if err != nil {
			t.Fatal(err)
		}
		r.scores = ts.LogProbs
		prompts := [][]int{{1, 2, 3}, {4}, {5, 6}}
		gens, err := m.Sample(t.Context(), prompts, SampleOptions{Greedy: true, MaxNew: 12, EOS: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gens {
			r.samples = append(r.samples, g.Tokens)
		}
		return r
	}
	cpu, gpu := run("cpu"), run("cuda")
	t.Logf("losses cpu  %.6f", cpu.losses)
	t.Logf("losses cuda %.6f", gpu.losses)
	worst := func(name string, a, b []float64) float64 {
		w := 0.0
		for i := range a {
			w = math.Max(w, math.Abs(a[i]-b[i])/(1+math.Abs(b[i])))
		}
		if w > cudaTolerance {
			t.Errorf("%s: CUDA and CPU differ by up to %.3g (relative), more than %g", name, w, cudaTolerance)
		}
		return w
	}
	worst("losses", gpu.losses, cpu.losses)
	wmax := 0.0
	for name, w := range cpu.weights {
		wmax = math.Max(wmax, worst("weights "+name, gpu.weights[name], w))
	}
	worst("rewards", gpu.rewards, cpu.rewards)
	smax := 0.0
	for i := range cpu.scores {
		smax = math.Max(smax, worst(fmt.Sprint("log-probs ", i), gpu.scores[i], cpu.scores[i]))
	}
	t.Logf("largest relative difference: weights after 6 steps %.2g, log-probs %.2g", wmax, smax)
	for i := range cpu.samples {
		if fmt.Sprint(cpu.samples[i]) != fmt.Sprint(gpu.samples[i]) {
			t.Errorf("greedy sample %d: CUDA %v, CPU %v", i, gpu.samples[i], cpu.samples[i])
		}
	}
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
				m := mustModel(b, cfg)
				tr := mustTrainer(b, m, OptimConfig{LR: 1e-4})
				defer tr.Close()
				batch := refBatchData(rand.New(rand.NewPCG(1, 1)), cfg)
				if _, err := tr.SFTStep(batch); err != nil { // build the graph outside the timer
					b.Fatal(err)
				}
				b.ResetTimer()
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					if _, err := tr.SFTStep(batch); err != nil {
						b.Fatal(err)
					}
				}
				reportTokens(b, refBatch*cfg.Context, c0)
			})
			b.Run(fmt.Sprintf("Sample/%s/%s", sh.name, device), func(b *testing.B) {
				if device == "cuda" {
					needCUDA(b)
				}
				m := mustModel(b, cfg)
				prompts := make([][]int, refBatch)
				for i := range prompts {
					prompts[i] = []int{1}
				}
				opts := SampleOptions{Temperature: 1, MaxNew: cfg.Context - 1, EOS: -1}
				rng := rand.New(rand.NewPCG(1, 1))
				if _, err := m.Sample(b.Context(), prompts, opts, rng); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					if _, err := m.Sample(b.Context(), prompts, opts, rng); err != nil {
						b.Fatal(err)
					}
				}
				reportTokens(b, refBatch*(cfg.Context-1), c0)
			})
		}
	}
}
