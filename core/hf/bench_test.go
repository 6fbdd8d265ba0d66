package hf

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pit-lab/pit/core/nn"
)

// BenchmarkGPT2Small writes a GPT-2 small shaped checkpoint (124M
// parameters, random float32 weights) in the Hugging Face format, imports
// it, and measures one SFT step (forward, backward, AdamW) and one scoring
// forward pass on a batch of 4 × 128 tokens. It reports tokens/s of each,
// the import time and the process's peak resident memory. The shape is
// GPT-2 small's unless PIT_GPT2_BENCH=tiny (a quick check that the
// benchmark runs). Not run by the tests; see BENCHMARKS.md for measured
// numbers and the command.
func BenchmarkGPT2Small(b *testing.B) {
	g := tinyGPT2{D: 768, L: 12, H: 12, C: 1024, V: 50257, M: 3072, DType: F32}
	if os.Getenv("PIT_GPT2_BENCH") == "tiny" {
		g = tinyGPT2{D: 64, L: 2, H: 4, C: 256, V: 500, M: 256, DType: F32}
	}
	dir := b.TempDir()
	g.write(b, dir, 1, nil, nil)
	benchImported(b, dir, g.V, ImportOptions{})
}

// BenchmarkSmolLM2 is BenchmarkGPT2Small for a Llama-family checkpoint of
// SmolLM2-135M's shape (576 wide, 30 layers, 9 query heads over 3
// key/value heads, SwiGLU 1536, vocabulary 49152, tied head; 135M
// parameters, random float32 weights), imported with its context capped
// at 2048. PIT_LLAMA_BENCH=tiny runs a tiny shape instead. Not run by the
// tests; not measured yet.
func BenchmarkSmolLM2(b *testing.B) {
	g := tinyLlama{D: 576, L: 30, H: 9, KV: 3, C: 8192, V: 49152, M: 1536, Theta: 100000, Tied: true, DType: F32}
	if os.Getenv("PIT_LLAMA_BENCH") == "tiny" {
		g = tinyLlama{D: 64, L: 2, H: 4, KV: 2, C: 256, V: 500, M: 160, Theta: 10000, Tied: true, DType: F32}
	}
	dir := b.TempDir()
	g.write(b, dir, 1, nil)
	benchImported(b, dir, g.V, ImportOptions{Context: min(g.C, 2048)})
}

// benchImported imports the checkpoint in dir and measures SFT steps and
// scoring passes on 4 random sequences of 128 tokens.
func benchImported(b *testing.B, dir string, vocab int, o ImportOptions) {
	const batch, seqLen = 4, 128
	start := time.Now()
	m, _, err := LoadModel(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	importTime := time.Since(start)
	rng := rand.New(rand.NewPCG(1, 2))
	seqs := make([][]int, batch)
	for i := range seqs {
		seqs[i] = make([]int, seqLen)
		for j := range seqs[i] {
			seqs[i][j] = rng.IntN(vocab)
		}
	}
	tr, err := nn.NewTrainer(m, nn.OptimConfig{LR: 1e-5})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	// build the graphs outside the timer
	if _, err := tr.SFTStep(nn.Batch{Seqs: seqs}); err != nil {
		b.Fatal(err)
	}
	if _, err := m.ScoreTokens(context.Background(), seqs, 1); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var train, score time.Duration
	for range b.N {
		t0 := time.Now()
		if _, err := tr.SFTStep(nn.Batch{Seqs: seqs}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := m.ScoreTokens(context.Background(), seqs, 1); err != nil {
			b.Fatal(err)
		}
		train += t1.Sub(t0)
		score += time.Since(t1)
	}
	tokens := float64(batch * seqLen * b.N)
	b.ReportMetric(importTime.Seconds(), "import-s")
	b.ReportMetric(float64(m.NumParams()), "params")
	b.ReportMetric(tokens/train.Seconds(), "train-tok/s")
	b.ReportMetric(tokens/score.Seconds(), "score-tok/s")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<30), "peak-RSS-GiB")
	}
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// peakRSS reads the process's peak resident set (VmHWM) in bytes on
// Linux; 0 elsewhere.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
